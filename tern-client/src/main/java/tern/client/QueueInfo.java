package tern.client;

/**
 * A snapshot of one queue.
 *
 * @param name      the queue
 * @param durable   survives restarts
 * @param depth     ready messages (delayed ones included)
 * @param unacked   delivered, not yet settled
 * @param consumers attached consumers
 * @param published messages accepted since the server started
 * @param delivered deliveries since start (redeliveries included)
 * @param acked     acknowledgements since start
 * @param options   the queue's options, bindings included
 */
public record QueueInfo(String name, boolean durable, long depth, long unacked, int consumers, long published,
                        long delivered, long acked, QueueOptions options) {
}
