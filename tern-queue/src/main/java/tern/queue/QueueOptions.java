package tern.queue;

import java.util.Objects;

/**
 * How a queue behaves; fixed at declare time. Declaring an existing queue with equal options succeeds, with
 * different options fails with QUEUE_OPTIONS_MISMATCH naming the first differing option ({@link #firstDifference}).
 * Zero means "none" for every limit and timeout below. Derive variants with the {@code with*} methods from
 * {@link #DURABLE} or {@link #TRANSIENT}.
 *
 * @param durable             survives a restart (messages in the queue's log, definition in the catalog)
 * @param durability          when a publish is confirmed (durable queues only)
 * @param fsyncIntervalMillis the fsync period for {@link Durability#FSYNC_INTERVAL}, else 0
 * @param messageTtlMillis    a message not acknowledged this long after publish is expired: dead-lettered with
 *                            reason EXPIRED if the queue has a dead-letter queue, else dropped; never delivered after
 * @param expiryMillis        the queue is deleted after being unused this long (no consumers and no declare,
 *                            publish or subscribe)
 * @param ackTimeoutMillis    an unacknowledged delivery is taken back and redelivered after this long
 * @param noAck               a delivery counts as acknowledged when it is handed to the consumer (no prefetch bound)
 * @param maxLengthMessages   most ready messages (not counting unacked ones)
 * @param maxLengthBytes      most bytes (payload + headers) of ready messages
 * @param overflow            what a publish does past either max length
 * @param maxDeliveries       after this many deliveries without an ack, a requeue dead-letters the message instead
 *                            (reason MAX_DELIVERIES)
 * @param deadLetterQueue     the queue receiving expired, rejected and over-delivered messages, or null (drop them)
 */
public record QueueOptions(boolean durable, Durability durability, long fsyncIntervalMillis, long messageTtlMillis,
                           long expiryMillis, long ackTimeoutMillis, boolean noAck, long maxLengthMessages,
                           long maxLengthBytes, Overflow overflow, int maxDeliveries, String deadLetterQueue) {

    /** Default ack timeout: 30 s. */
    public static final long DEFAULT_ACK_TIMEOUT_MILLIS = 30_000;

    /** A durable queue, fsync before confirm, no limits, 30 s ack timeout, no dead-letter queue. */
    public static final QueueOptions DURABLE = new QueueOptions(true, Durability.FSYNC_BEFORE_CONFIRM, 0, 0, 0,
            DEFAULT_ACK_TIMEOUT_MILLIS, false, 0, 0, Overflow.REJECT_PUBLISH, 0, null);

    /** Like {@link #DURABLE} but transient: lost on restart, confirmed at once. */
    public static final QueueOptions TRANSIENT = DURABLE.withDurable(false);

    public QueueOptions {
        Objects.requireNonNull(durability, "durability");
        Objects.requireNonNull(overflow, "overflow");
        nonNegative("messageTtlMillis", messageTtlMillis);
        nonNegative("expiryMillis", expiryMillis);
        nonNegative("ackTimeoutMillis", ackTimeoutMillis);
        nonNegative("maxLengthMessages", maxLengthMessages);
        nonNegative("maxLengthBytes", maxLengthBytes);
        nonNegative("maxDeliveries", maxDeliveries);
        if (durability == Durability.FSYNC_INTERVAL ? fsyncIntervalMillis < 1 : fsyncIntervalMillis != 0) {
            throw bad("fsyncIntervalMillis " + fsyncIntervalMillis + " must be >= 1 with FSYNC_INTERVAL and 0 otherwise");
        }
        if (deadLetterQueue != null && deadLetterQueue.isEmpty()) {
            throw bad("deadLetterQueue must be null or a queue name, not empty");
        }
    }

    private static void nonNegative(String name, long v) {
        if (v < 0) {
            throw bad(name + " " + v + " must be >= 0 (0 means none)");
        }
    }

    private static QueueException bad(String message) {
        return new QueueException(tern.protocol.ErrorCode.BAD_QUEUE_OPTIONS, message);
    }

    /** Null when equal, otherwise "name (existing X, requested Y)" for the first option that differs. */
    public String firstDifference(QueueOptions requested) {
        Object[][] pairs = {
            {"durable", durable, requested.durable},
            {"durability", durability, requested.durability},
            {"fsyncIntervalMillis", fsyncIntervalMillis, requested.fsyncIntervalMillis},
            {"messageTtlMillis", messageTtlMillis, requested.messageTtlMillis},
            {"expiryMillis", expiryMillis, requested.expiryMillis},
            {"ackTimeoutMillis", ackTimeoutMillis, requested.ackTimeoutMillis},
            {"noAck", noAck, requested.noAck},
            {"maxLengthMessages", maxLengthMessages, requested.maxLengthMessages},
            {"maxLengthBytes", maxLengthBytes, requested.maxLengthBytes},
            {"overflow", overflow, requested.overflow},
            {"maxDeliveries", maxDeliveries, requested.maxDeliveries},
            {"deadLetterQueue", deadLetterQueue, requested.deadLetterQueue},
        };
        for (Object[] p : pairs) {
            if (!Objects.equals(p[1], p[2])) {
                return p[0] + " (existing " + p[1] + ", requested " + p[2] + ")";
            }
        }
        return null;
    }

    public QueueOptions withDurable(boolean v) {
        return new QueueOptions(v, durability, fsyncIntervalMillis, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    /** Fsync before confirm (group commit). */
    public QueueOptions withFsyncBeforeConfirm() {
        return new QueueOptions(durable, Durability.FSYNC_BEFORE_CONFIRM, 0, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    /** The weaker {@link Durability#FSYNC_INTERVAL}. */
    public QueueOptions withFsyncIntervalMillis(long millis) {
        return new QueueOptions(durable, Durability.FSYNC_INTERVAL, millis, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    public QueueOptions withMessageTtlMillis(long v) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, v, expiryMillis,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    public QueueOptions withExpiryMillis(long v) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, messageTtlMillis, v,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    public QueueOptions withAckTimeoutMillis(long v) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, messageTtlMillis, expiryMillis,
                v, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    public QueueOptions withNoAck(boolean v) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, v, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, deadLetterQueue);
    }

    public QueueOptions withMaxLength(long messages, long bytes, Overflow policy) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, noAck, messages, bytes, policy, maxDeliveries, deadLetterQueue);
    }

    public QueueOptions withMaxDeliveries(int v) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, v, deadLetterQueue);
    }

    public QueueOptions withDeadLetterQueue(String v) {
        return new QueueOptions(durable, durability, fsyncIntervalMillis, messageTtlMillis, expiryMillis,
                ackTimeoutMillis, noAck, maxLengthMessages, maxLengthBytes, overflow, maxDeliveries, v);
    }
}
