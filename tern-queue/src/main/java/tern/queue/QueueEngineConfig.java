package tern.queue;

import java.nio.file.Path;
import java.util.Objects;
import tern.storage.LogConfig;

/**
 * Where and how the engine stores durable queues.
 *
 * @param directory the engine's directory: {@code catalog} plus one {@code queues/<name>/} per durable queue
 * @param limits    the engine's bounds
 * @param logConfig the message logs' segment size, record limit and file seam; its sync policy is replaced per
 *                  queue by the queue's {@link Durability}. maxRecordBytes must hold the largest message plus
 *                  {@link #RECORD_OVERHEAD_BYTES}
 */
public record QueueEngineConfig(Path directory, QueueLimits limits, LogConfig logConfig) {

    /** Bytes a message-log record may need beyond the message's own (codec fields + origin queue name). */
    public static final int RECORD_OVERHEAD_BYTES = MessageCodec.OVERHEAD_BYTES + 256;

    public QueueEngineConfig {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(logConfig, "logConfig");
        long need = (long) limits.maxMessageBytes() + RECORD_OVERHEAD_BYTES;
        if (logConfig.maxRecordBytes() < need) {
            throw new IllegalArgumentException("logConfig.maxRecordBytes " + logConfig.maxRecordBytes()
                    + " < maxMessageBytes " + limits.maxMessageBytes() + " + " + RECORD_OVERHEAD_BYTES);
        }
    }

    /** Default limits and 64 MiB segments sized for them. */
    public static QueueEngineConfig defaults(Path directory) {
        return defaults(directory, QueueLimits.DEFAULT);
    }

    /** The given limits and the default log (64 MiB segments) sized for them. */
    public static QueueEngineConfig defaults(Path directory, QueueLimits limits) {
        return of(directory, limits, LogConfig.DEFAULT);
    }

    /** The given limits, with logConfig's maxRecordBytes raised to fit them. */
    public static QueueEngineConfig of(Path directory, QueueLimits limits, LogConfig logConfig) {
        int need = limits.maxMessageBytes() + RECORD_OVERHEAD_BYTES;
        LogConfig c = logConfig.maxRecordBytes() >= need ? logConfig : logConfig.withMaxRecordBytes(need);
        return new QueueEngineConfig(directory, limits, c);
    }
}
