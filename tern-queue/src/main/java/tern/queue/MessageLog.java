package tern.queue;

import java.nio.ByteBuffer;
import tern.storage.DurabilityCallback;
import tern.storage.LogRecord;
import tern.storage.StorageException;

/**
 * The part of a segmented log a durable queue needs: the minimal seam between the engine and tern-storage's
 * {@code SegmentedLog} (see {@link SegmentedMessageLog}). Offsets are dense: each append takes the next one.
 * Every method may throw {@link StorageException}.
 */
interface MessageLog extends AutoCloseable {

    /**
     * Appends {@code count} records from {@code payloads[0..count)} (each between position and limit) in as few
     * writes as possible, all or nothing; returns the first one's offset.
     */
    long appendBatch(ByteBuffer[] payloads, int count, long timestampMillis);

    /** Calls back once the record at offset (and all before it) is durable per the log's sync policy, or failed. */
    void whenDurable(long offset, DurabilityCallback callback);

    /** Reads one record back; its CRC is verified. */
    LogRecord read(long offset);

    /** The first offset still stored. */
    long startOffset();

    /** The offset the next append will take. */
    long endOffset();

    /** Deletes whole segments whose records all lie below offset; never the active segment. */
    void deleteSegmentsBefore(long offset);

    /** True after a fatal failure (failed fsync): no more appends until reopened. */
    boolean isFailed();

    @Override
    void close();
}
