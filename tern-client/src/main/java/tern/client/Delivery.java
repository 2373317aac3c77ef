package tern.client;

import java.time.Duration;
import java.util.Map;

/**
 * One delivery of a queue message to a {@link QueueConsumer}. Settle it exactly once with {@link #ack()},
 * {@link #nack(Duration)} or {@link #reject()}; unsettled deliveries come back after the queue's ack timeout, or at
 * once when the consumer or its connection closes. Settling never waits: a stale token (the delivery timed out,
 * was already settled, or the connection was lost since) is reported as ServerException(STALE_DELIVERY) to the
 * connection listener's onError, and the connection keeps working.
 */
public interface Delivery {
    /** The queue it came from. */
    String queue();

    /** The subject it was published on (the queue name for {@link Connection#send}). */
    String subject();

    Map<String, String> headers();

    byte[] payload();

    /** Its position in the queue's log (as in its {@link Confirm}). */
    long offset();

    /** Fences this delivery attempt. */
    long token();

    /** 1 on the first delivery, n on the n-th. */
    int deliveryCount();

    /** True when this is not the first delivery. */
    boolean redelivered();

    /** The queue it died in, when delivered from a dead-letter queue; else null. */
    String deadLetterOrigin();

    /** EXPIRED, REJECTED or MAX_DELIVERIES when delivered from a dead-letter queue; else null. */
    String deadLetterReason();

    /** Done: the message leaves the queue. */
    void ack();

    /** Give it back: ready again at once (null or zero) or after the delay. */
    void nack(Duration requeueDelay);

    /** Refuse it for good: it goes to the queue's dead-letter queue (reason REJECTED), or is dropped. */
    void reject();
}
