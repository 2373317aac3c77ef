package tern.queue;

/** When a publish to a durable queue is confirmed. Transient queues confirm at once whatever this says. */
public enum Durability {
    /** Default: confirm after an fsync covering the message (group commit: one fsync covers all that arrived). */
    FSYNC_BEFORE_CONFIRM,
    /**
     * Weaker and faster: confirm after the write; fsync every {@link QueueOptions#fsyncIntervalMillis()} ms, so a
     * power loss may lose up to that much confirmed data (a process crash loses nothing). Receipts say fsynced=false.
     */
    FSYNC_INTERVAL
}
