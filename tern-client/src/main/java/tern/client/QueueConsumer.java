package tern.client;

import java.time.Duration;

/**
 * A competing consumer of one queue (see {@link Connection#consume}). Re-created with the same id after a
 * reconnect; deliveries received before the disconnect are redelivered by the server, and settling them reports
 * STALE_DELIVERY.
 */
public interface QueueConsumer extends AutoCloseable {
    String queue();

    /** Pull style only: the next delivery, waiting up to timeout; null on timeout or once closed. */
    Delivery next(Duration timeout);

    /** Cancels the consumer: its unsettled deliveries go back to the queue. Idempotent. */
    @Override
    void close();
}
