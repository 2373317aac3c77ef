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

    /** Appends one record (buffered; durability is reported by {@link #whenDurable}); returns its offset. */
    long append(long timestampMillis, ByteBuffer payload);

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
