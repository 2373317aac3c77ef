package tern.queue;

import tern.protocol.ErrorCode;

/**
 * The engine's bounds, each checked before allocating what it bounds (docs/queues.md, "Limits").
 *
 * @param maxQueues              most queues (durable + transient); past it declare fails with QUEUE_LIMIT
 * @param maxQueueNameBytes      longest queue name; names are 1..this many of [A-Za-z0-9._-], not starting with '.'
 * @param maxConsumersPerQueue   most consumers on one queue; past it subscribe fails with QUEUE_LIMIT
 * @param maxBindingsPerQueue    most subject patterns bound to one queue; past it bind fails with QUEUE_LIMIT
 * @param maxMessageBytes        largest subject + headers + payload; past it publish fails with MESSAGE_TOO_LARGE
 * @param maxPrefetch            largest per-consumer prefetch (unacked deliveries); larger requests are refused
 * @param maxNackDelayMillis     longest requeue delay a nack may ask for
 * @param maxSubjectBytes        longest bound pattern / published subject, in UTF-8 bytes
 * @param maxMemoryBytes         most memory all queues together may hold in messages (payload, headers, subject and
 *                               {@link #MESSAGE_OVERHEAD_BYTES} each, ready, delayed or unacked, and
 *                               {@link #SETTLED_ENTRY_BYTES} for a settled one still pinned behind an unsettled one);
 *                               past it a publish fails with QUEUE_MEMORY_FULL. Messages move between queues (dead letters, redrive)
 *                               and recover past it, so it also bounds what a restart loads
 * @param pageOutBytes           once all queues hold this much, durable queues keep new messages on disk only:
 *                               their headers and payload are read back from the log when delivered or moved, and
 *                               only {@link #MESSAGE_OVERHEAD_BYTES} and the subject count meanwhile. 0..maxMemoryBytes;
 *                               half of it by default (and after {@link #withMaxMemoryBytes})
 */
public record QueueLimits(int maxQueues, int maxQueueNameBytes, int maxConsumersPerQueue, int maxBindingsPerQueue,
                          int maxMessageBytes, int maxPrefetch, long maxNackDelayMillis, int maxSubjectBytes,
                          long maxMemoryBytes, long pageOutBytes) {

    /**
     * What the engine counts for a held message beyond its payload, headers and subject: the message object, its
     * array header, its slots in the queue's deques and, while unacked, its map entry. Measured with a heap histogram
     * (docs/benchmarks.md, "Memory and connections"): about 115 bytes ready, 190 unacked.
     */
    public static final int MESSAGE_OVERHEAD_BYTES = 192;

    /**
     * What a settled message of a durable queue still counts while an older message of that queue is unsettled: it
     * stays in the queue's offset-ordered list, for the settlement checkpoint, until everything before it is settled
     * (its object and slot; the headers and payload are gone).
     */
    public static final int SETTLED_ENTRY_BYTES = 104;

    /** Defaults; {@link #maxMemoryBytes} is half this JVM's max heap. */
    public static final QueueLimits DEFAULT = new QueueLimits(10_000, 200, 1_000, 100, 1 << 20, 65_536,
            24L * 3600 * 1000, 256, defaultMaxMemoryBytes(), defaultMaxMemoryBytes() / 2);

    /** Half the JVM's max heap: the rest is for connections, buffers and garbage. */
    public static long defaultMaxMemoryBytes() {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    public QueueLimits {
        positive("maxQueues", maxQueues);
        positive("maxQueueNameBytes", maxQueueNameBytes);
        if (maxQueueNameBytes > 200) {
            throw new IllegalArgumentException("maxQueueNameBytes " + maxQueueNameBytes
                    + " > 200 (queue names become directory names)");
        }
        positive("maxConsumersPerQueue", maxConsumersPerQueue);
        positive("maxBindingsPerQueue", maxBindingsPerQueue);
        positive("maxMessageBytes", maxMessageBytes);
        positive("maxPrefetch", maxPrefetch);
        positive("maxNackDelayMillis", maxNackDelayMillis);
        positive("maxSubjectBytes", maxSubjectBytes);
        positive("maxMemoryBytes", maxMemoryBytes);
        if (pageOutBytes < 0 || pageOutBytes > maxMemoryBytes) {
            throw new IllegalArgumentException("pageOutBytes " + pageOutBytes + " outside 0..maxMemoryBytes "
                    + maxMemoryBytes);
        }
    }

    private static void positive(String name, long v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " " + v + " must be >= 1");
        }
    }

    public QueueLimits withMaxQueues(int v) {
        return new QueueLimits(v, maxQueueNameBytes, maxConsumersPerQueue, maxBindingsPerQueue, maxMessageBytes,
                maxPrefetch, maxNackDelayMillis, maxSubjectBytes, maxMemoryBytes, pageOutBytes);
    }

    public QueueLimits withMaxConsumersPerQueue(int v) {
        return new QueueLimits(maxQueues, maxQueueNameBytes, v, maxBindingsPerQueue, maxMessageBytes,
                maxPrefetch, maxNackDelayMillis, maxSubjectBytes, maxMemoryBytes, pageOutBytes);
    }

    public QueueLimits withMaxMessageBytes(int v) {
        return new QueueLimits(maxQueues, maxQueueNameBytes, maxConsumersPerQueue, maxBindingsPerQueue, v,
                maxPrefetch, maxNackDelayMillis, maxSubjectBytes, maxMemoryBytes, pageOutBytes);
    }

    public QueueLimits withMaxBindingsPerQueue(int v) {
        return new QueueLimits(maxQueues, maxQueueNameBytes, maxConsumersPerQueue, v, maxMessageBytes,
                maxPrefetch, maxNackDelayMillis, maxSubjectBytes, maxMemoryBytes, pageOutBytes);
    }

    /** The memory bound, with {@link #pageOutBytes} at half of it. */
    public QueueLimits withMaxMemoryBytes(long v) {
        return new QueueLimits(maxQueues, maxQueueNameBytes, maxConsumersPerQueue, maxBindingsPerQueue, maxMessageBytes,
                maxPrefetch, maxNackDelayMillis, maxSubjectBytes, v, v / 2);
    }

    public QueueLimits withPageOutBytes(long v) {
        return new QueueLimits(maxQueues, maxQueueNameBytes, maxConsumersPerQueue, maxBindingsPerQueue, maxMessageBytes,
                maxPrefetch, maxNackDelayMillis, maxSubjectBytes, maxMemoryBytes, v);
    }

    /** Throws BAD_QUEUE_OPTIONS unless name obeys the queue-name rule. */
    public void checkQueueName(String name) {
        if (name == null || name.isEmpty()) {
            throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "queue name is empty");
        }
        if (name.length() > maxQueueNameBytes) {
            throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "queue name " + name.length()
                    + " bytes > max " + maxQueueNameBytes);
        }
        if (name.charAt(0) == '.') {
            throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "queue name must not start with '.'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            if (!ok) {
                throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "queue name has '" + c + "' at " + i
                        + " (allowed: letters, digits, '.', '_', '-')");
            }
        }
    }
}
