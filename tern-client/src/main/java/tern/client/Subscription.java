package tern.client;

import java.time.Duration;

/** A subscription on a {@link Connection}. Thread-safe. */
public interface Subscription extends AutoCloseable {
    /** The subscription id, unique within its connection and kept across reconnects. */
    int sid();

    String subject();

    /** The queue group, or null. */
    String queueGroup();

    /**
     * Pull subscriptions only: the next message, waiting up to timeout; null on timeout, or when the
     * subscription is no longer active and its queue is empty. Throws IllegalStateException on a push
     * subscription.
     */
    Message next(Duration timeout);

    /** Stops delivery now. Messages already queued for a pull subscription can still be read. */
    void unsubscribe();

    /** Stops delivery once afterMessages messages have been delivered in total (at once if already). */
    void unsubscribe(int afterMessages);

    /** Same as {@link #unsubscribe()}. */
    @Override
    void close();

    /** Sum of the drop counts the server reported (DROPPED frames) for this subscription. */
    long droppedCount();

    boolean isActive();
}
