package tern.storage;

import java.util.Objects;

/**
 * Limits and policies of one {@link SegmentedLog}. Immutable; derive variants with the {@code with*} methods:
 * <pre>{@code
 * LogConfig config = LogConfig.DEFAULT.withSegmentBytes(16 << 20).withSyncPolicy(SyncPolicy.interval(5));
 * }</pre>
 *
 * @param segmentBytes       roll to a new segment file before a segment would grow past this many bytes
 *                           (default 64 MiB, at least 64); a single record larger than that gets a segment of its
 *                           own
 * @param maxRecordBytes     largest payload accepted by append and believed when reading (default 1 MiB, at most
 *                           {@code Integer.MAX_VALUE - 24}). Reads check
 *                           a record's length against it before allocating anything. Do not lower it on a log that
 *                           holds larger records: opening such a log fails with
 *                           {@link StorageException.Reason#CONFIG_MISMATCH} rather than dropping them
 * @param indexIntervalBytes add a sparse-index entry after at least this many bytes (default 4 KiB); a lookup scans
 *                           at most about this many bytes after an index hit
 * @param syncPolicy         when to fsync and what a durability notification promises (default
 *                           {@link SyncPolicy#ALWAYS})
 * @param channelFactory     how files are opened: {@link FileChannelFactory#DEFAULT} except in fault-injection tests
 */
public record LogConfig(int segmentBytes, int maxRecordBytes, int indexIntervalBytes, SyncPolicy syncPolicy,
                        FileChannelFactory channelFactory) {

    /** 64 MiB. */
    public static final int DEFAULT_SEGMENT_BYTES = 64 << 20;
    /** 1 MiB. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;
    /** 4 KiB. */
    public static final int DEFAULT_INDEX_INTERVAL_BYTES = 4 << 10;

    /** 64 MiB segments, 1 MiB records, a 4 KiB index interval, {@link SyncPolicy#ALWAYS}, real files. */
    public static final LogConfig DEFAULT = new LogConfig(DEFAULT_SEGMENT_BYTES, DEFAULT_MAX_RECORD_BYTES,
            DEFAULT_INDEX_INTERVAL_BYTES, SyncPolicy.ALWAYS, FileChannelFactory.DEFAULT);

    /**
     * Validates the limits.
     *
     * @param segmentBytes       see {@link #segmentBytes()}
     * @param maxRecordBytes     see {@link #maxRecordBytes()}
     * @param indexIntervalBytes see {@link #indexIntervalBytes()}
     * @param syncPolicy         see {@link #syncPolicy()}
     * @param channelFactory     see {@link #channelFactory()}
     */
    public LogConfig {
        Objects.requireNonNull(syncPolicy, "syncPolicy");
        Objects.requireNonNull(channelFactory, "channelFactory");
        if (maxRecordBytes < 0 || maxRecordBytes > Integer.MAX_VALUE - RecordFormat.HEADER_BYTES) {
            throw new IllegalArgumentException("maxRecordBytes must be in [0, " + (Integer.MAX_VALUE
                    - RecordFormat.HEADER_BYTES) + "]: " + maxRecordBytes);
        }
        if (indexIntervalBytes < 1) {
            throw new IllegalArgumentException("indexIntervalBytes must be >= 1: " + indexIntervalBytes);
        }
        if (segmentBytes < 64) {
            throw new IllegalArgumentException("segmentBytes must be >= 64: " + segmentBytes);
        }
    }

    /**
     * @param bytes the new segment size limit
     * @return a copy with {@link #segmentBytes()} changed
     */
    public LogConfig withSegmentBytes(int bytes) {
        return new LogConfig(bytes, maxRecordBytes, indexIntervalBytes, syncPolicy, channelFactory);
    }

    /**
     * @param bytes the new record size limit
     * @return a copy with {@link #maxRecordBytes()} changed
     */
    public LogConfig withMaxRecordBytes(int bytes) {
        return new LogConfig(segmentBytes, bytes, indexIntervalBytes, syncPolicy, channelFactory);
    }

    /**
     * @param bytes the new index interval
     * @return a copy with {@link #indexIntervalBytes()} changed
     */
    public LogConfig withIndexIntervalBytes(int bytes) {
        return new LogConfig(segmentBytes, maxRecordBytes, bytes, syncPolicy, channelFactory);
    }

    /**
     * @param policy the new sync policy
     * @return a copy with {@link #syncPolicy()} changed
     */
    public LogConfig withSyncPolicy(SyncPolicy policy) {
        return new LogConfig(segmentBytes, maxRecordBytes, indexIntervalBytes, policy, channelFactory);
    }

    /**
     * @param factory the new channel factory
     * @return a copy with {@link #channelFactory()} changed
     */
    public LogConfig withChannelFactory(FileChannelFactory factory) {
        return new LogConfig(segmentBytes, maxRecordBytes, indexIntervalBytes, syncPolicy, factory);
    }
}
