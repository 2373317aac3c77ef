package tern.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A queue's options, fixed when it is declared: declaring it again with equal options succeeds, with different
 * ones fails with ServerException(QUEUE_OPTIONS_MISMATCH). Null (or zero) durations and 0 limits mean "none".
 * Normalized on construction (zero durations become null, a null ack timeout becomes the 30 s default, an empty
 * dead-letter queue null), so the options in a {@link QueueInfo} equal the declared ones.
 *
 * @param durable         survives broker restarts (messages fsynced before their confirm, by default)
 * @param messageTtl      a message not acknowledged this long after it was sent is dead-lettered (EXPIRED) or dropped
 * @param expires         the queue is deleted after being unused this long
 * @param ackTimeout      an unacknowledged delivery is redelivered after this long (default 30 s; zero: never)
 * @param noAck           deliveries count as acknowledged when handed out
 * @param maxLength       most ready messages (0: unbounded)
 * @param maxBytes        most bytes (headers + payload) of ready messages (0: unbounded)
 * @param overflow        what a send does past either max
 * @param maxDeliveries   a delivery with this count that comes back unacknowledged is dead-lettered (0: unbounded)
 * @param deadLetterQueue an existing queue for expired, rejected and over-delivered messages, or null (drop them)
 * @param bindings        subject patterns: every publish matching one is also sent into this queue
 * @param fsyncInterval   null: fsync before confirm (group commit, default); else confirm after the write and fsync
 *                        this often (a power loss may lose that much confirmed data)
 */
public record QueueOptions(boolean durable, Duration messageTtl, Duration expires, Duration ackTimeout, boolean noAck,
                           long maxLength, long maxBytes, Overflow overflow, int maxDeliveries, String deadLetterQueue,
                           List<String> bindings, Duration fsyncInterval) {
    /** The ack timeout when none is given. */
    public static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(30);

    public QueueOptions {
        messageTtl = orNull(messageTtl, "messageTtl");
        expires = orNull(expires, "expires");
        fsyncInterval = orNull(fsyncInterval, "fsyncInterval");
        if (ackTimeout == null) {
            ackTimeout = DEFAULT_ACK_TIMEOUT;
        } else if (ackTimeout.isNegative()) {
            throw new IllegalArgumentException("ackTimeout " + ackTimeout + " is negative");
        }
        if (maxLength < 0 || maxBytes < 0 || maxDeliveries < 0) {
            throw new IllegalArgumentException("maxLength " + maxLength + ", maxBytes " + maxBytes + ", maxDeliveries "
                    + maxDeliveries + ": must be >= 0 (0 means none)");
        }
        overflow = overflow == null ? Overflow.REJECT : overflow;
        deadLetterQueue = deadLetterQueue == null || deadLetterQueue.isEmpty() ? null : deadLetterQueue;
        bindings = bindings == null ? List.of() : List.copyOf(bindings);
    }

    private static Duration orNull(Duration d, String name) {
        if (d == null || d.isZero()) {
            return null;
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " " + d + " is negative");
        }
        return d;
    }

    /**
     * Durable, fsync before confirm, 30 s ack timeout, no limits, no dead-letter queue, no bindings. (Named
     * durableQueue, not durable: a record's accessor {@code durable()} already has that name.)
     */
    public static QueueOptions durableQueue() {
        return builder().build();
    }

    /** Like {@link #durableQueue()} but lost on restart and confirmed at once. */
    public static QueueOptions transientQueue() {
        return builder().durable(false).build();
    }

    /** Same as {@link #transientQueue()}. */
    public static QueueOptions transient_() {
        return transientQueue();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.durable = durable;
        b.messageTtl = messageTtl;
        b.expires = expires;
        b.ackTimeout = ackTimeout;
        b.noAck = noAck;
        b.maxLength = maxLength;
        b.maxBytes = maxBytes;
        b.overflow = overflow;
        b.maxDeliveries = maxDeliveries;
        b.deadLetterQueue = deadLetterQueue;
        b.bindings = new ArrayList<>(bindings);
        b.fsyncInterval = fsyncInterval;
        return b;
    }

    /** Builder for {@link QueueOptions}; starts durable with the defaults. */
    public static final class Builder {
        private boolean durable = true;
        private Duration messageTtl;
        private Duration expires;
        private Duration ackTimeout = DEFAULT_ACK_TIMEOUT;
        private boolean noAck;
        private long maxLength;
        private long maxBytes;
        private Overflow overflow = Overflow.REJECT;
        private int maxDeliveries;
        private String deadLetterQueue;
        private List<String> bindings = new ArrayList<>();
        private Duration fsyncInterval;

        private Builder() {
        }

        public Builder durable(boolean v) {
            durable = v;
            return this;
        }

        public Builder messageTtl(Duration v) {
            messageTtl = v;
            return this;
        }

        public Builder expires(Duration v) {
            expires = v;
            return this;
        }

        public Builder ackTimeout(Duration v) {
            ackTimeout = v;
            return this;
        }

        public Builder noAck(boolean v) {
            noAck = v;
            return this;
        }

        /** Most ready messages and bytes (0: unbounded) and what happens past them. */
        public Builder maxLength(long messages, long bytes, Overflow policy) {
            maxLength = messages;
            maxBytes = bytes;
            overflow = Objects.requireNonNull(policy, "overflow");
            return this;
        }

        public Builder maxLength(long v) {
            maxLength = v;
            return this;
        }

        public Builder maxBytes(long v) {
            maxBytes = v;
            return this;
        }

        public Builder overflow(Overflow v) {
            overflow = v;
            return this;
        }

        public Builder maxDeliveries(int v) {
            maxDeliveries = v;
            return this;
        }

        public Builder deadLetterQueue(String v) {
            deadLetterQueue = v;
            return this;
        }

        /** Adds a binding (a subject pattern). */
        public Builder bind(String pattern) {
            bindings.add(Objects.requireNonNull(pattern, "pattern"));
            return this;
        }

        public Builder bindings(List<String> v) {
            bindings = new ArrayList<>(v);
            return this;
        }

        public Builder fsyncInterval(Duration v) {
            fsyncInterval = v;
            return this;
        }

        public QueueOptions build() {
            return new QueueOptions(durable, messageTtl, expires, ackTimeout, noAck, maxLength, maxBytes, overflow,
                    maxDeliveries, deadLetterQueue, bindings, fsyncInterval);
        }
    }
}
