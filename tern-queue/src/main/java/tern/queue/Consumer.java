package tern.queue;

/**
 * Receives deliveries from one queue. Called with the queue's lock held (see docs/queues.md, "Threading"): it must
 * be quick, must not block, and must not call the engine for another queue synchronously (hand off instead, e.g.
 * {@code channel.write}). Calling back into the same queue (ack from inside deliver) is allowed.
 */
public interface Consumer {

    /**
     * Offers one delivery. Return false when it cannot take it now (e.g. the channel is not writable): the message
     * stays at the head of the queue and the consumer is paused until {@link QueueEngine#resume}.
     */
    boolean deliver(Delivery delivery);

    /** The engine dropped this consumer (queue deleted or expired, engine closed). Default: nothing. */
    default void cancelled(QueueException reason) {
    }
}
