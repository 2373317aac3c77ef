package tern.queue;

import java.util.List;

/**
 * A snapshot of one queue for admin listing. Totals count since the engine opened; a rate is the difference of
 * two snapshots' totals over the difference of their {@code atMillis}.
 *
 * @param name            queue name
 * @param options         its options
 * @param bindings        bound subject patterns, in bind order
 * @param depth           ready messages, including delayed (nacked with a delay) ones
 * @param depthBytes      bytes (payload + headers) of those
 * @param unacked         delivered, not yet settled
 * @param consumers       attached consumers
 * @param published       total accepted publishes (including dead letters and redriven messages received)
 * @param delivered       total deliveries (including redeliveries)
 * @param redelivered     total deliveries with a delivery count above 1
 * @param acked           total acks (no-ack deliveries count)
 * @param deadLettered    total messages sent to the dead-letter queue, or dropped for lack of one, after expiry,
 *                        reject or max deliveries
 * @param expired         total messages whose TTL passed (also counted in deadLettered)
 * @param dropped         total messages dropped by DROP_HEAD overflow or purge
 * @param failure         why the queue accepts no writes (failed fsync), or null when healthy
 * @param atMillis        engine clock when the snapshot was taken
 */
public record QueueInfo(String name, QueueOptions options, List<String> bindings, long depth, long depthBytes,
                        long unacked, int consumers, long published, long delivered, long redelivered, long acked,
                        long deadLettered, long expired, long dropped, String failure, long atMillis) {
}
