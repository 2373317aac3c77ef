package tern.queue;

/**
 * One delivery attempt of one message to one consumer. The engine hands the arrays over; the consumer must not
 * modify them.
 *
 * @param queue         the queue delivered from
 * @param consumerId    the consumer it went to (from {@link QueueEngine#subscribe})
 * @param token         fences this attempt: ack/nack/reject name it; unique per engine, never reused, also across
 *                      restarts. A token whose attempt timed out or was settled is refused with STALE_DELIVERY
 * @param offset        the message's position in the queue's log (as in its publish receipt)
 * @param deliveryCount 1 on the first delivery, n on the n-th (redeliveries after nack, timeout, consumer loss or
 *                      restart)
 * @param publishedAtMillis when the queue accepted the message (engine clock)
 * @param subject       the subject it was published on
 * @param headers       the header block as the publisher sent it (opaque to the engine), empty if none
 * @param payload       the payload
 * @param deadLetter    origin, reason and count when delivered from a dead-letter queue, else null
 */
public record Delivery(String queue, long consumerId, long token, long offset, int deliveryCount,
                       long publishedAtMillis, String subject, byte[] headers, byte[] payload, DeadLetter deadLetter) {

    /** True when this is not the first delivery of the message. */
    public boolean redelivered() {
        return deliveryCount > 1;
    }
}
