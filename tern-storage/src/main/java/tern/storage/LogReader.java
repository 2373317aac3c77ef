package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * A cursor over a {@link SegmentedLog} for replay and tailing: reads records in order from any offset through a
 * window buffer (one read call per window, not per record), verifying every record's length, CRC32C and offset.
 * It never returns a corrupt payload: a record that fails validation throws
 * {@link StorageException.Reason#CORRUPT}.
 *
 * <pre>{@code
 * try (LogReader reader = log.reader(fromOffset)) {
 *     while (reader.next()) {
 *         deliver(reader.offset(), reader.timestampMillis(), reader.payload());
 *     }
 *     // later: next() returns true again once more records are appended (tailing)
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one reader per thread. Any number of readers may run alongside the writer; a reader sees the
 * records below {@link SegmentedLog#endOffset()} as of each {@link #next()} call. Steady-state reading allocates
 * nothing (the window grows only for a record larger than it, up to {@link LogConfig#maxRecordBytes()}).
 */
public final class LogReader implements AutoCloseable {

    static final int DEFAULT_BUFFER_BYTES = 64 << 10;
    private static final int HEADER = RecordFormat.HEADER_BYTES;

    private final SegmentedLog log;
    private final int maxRecordBytes;
    private final boolean direct;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer window;
    private ByteBuffer view;

    /** Segment the window belongs to; null until positioned. */
    private Segment segment;
    private long windowStart;
    private int windowLength;
    /** File position of the record at {@link #nextOffset} in {@link #segment}. */
    private long filePosition;
    private long nextOffset;

    private long offset = -1;
    private long timestamp;
    private int payloadStart;
    private int payloadLength;
    private boolean closed;

    LogReader(SegmentedLog log, long fromOffset, int bufferBytes, boolean direct) {
        this.log = log;
        this.maxRecordBytes = log.config().maxRecordBytes();
        this.direct = direct;
        allocate(bufferBytes);
        seek(fromOffset);
    }

    /**
     * Moves the cursor so that the next {@link #next()} returns the record at {@code offset}.
     *
     * @param offset an offset in {@code [startOffset(), endOffset()]}
     * @throws StorageException {@link StorageException.Reason#OFFSET_OUT_OF_RANGE} outside that range
     */
    public void seek(long offset) {
        ensureOpen();
        long end = log.endOffset();
        long start = log.startOffset();
        if (offset < start || offset > end) {
            throw new StorageException(StorageException.Reason.OFFSET_OUT_OF_RANGE, "offset " + offset
                    + " is not in [" + start + ", " + end + "]");
        }
        nextOffset = offset;
        segment = null;
        windowLength = 0;
        this.offset = -1;
    }

    /**
     * Advances to the next record if one has been appended.
     *
     * @return true if positioned on a new record (see {@link #offset()}, {@link #payload()}); false at the end of
     *         the log (call again later to tail)
     * @throws StorageException {@link StorageException.Reason#CORRUPT} if the record fails validation,
     *                          {@link StorageException.Reason#OFFSET_OUT_OF_RANGE} if it was deleted by retention,
     *                          {@link StorageException.Reason#IO_ERROR} on read failure
     */
    public boolean next() {
        ensureOpen();
        long end = log.endOffset();
        if (nextOffset >= end) {
            return false;
        }
        try {
            if (segment == null || nextOffset >= segment.endOffset()) {
                position(nextOffset);
            }
            readRecordAtCursor();
            return true;
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.IO_ERROR, false, "cannot read offset " + nextOffset
                    + " from " + log.directory() + ": " + e, e);
        }
    }

    /** Reads and validates the record at (segment, filePosition), which must be nextOffset. */
    private void readRecordAtCursor() throws IOException {
        long limit = segment.size();
        int length = headerLength(limit);
        int frame = HEADER + length;
        if (!available(filePosition, frame, limit)) {
            throw corrupt("record " + nextOffset + " at position " + filePosition + " runs past the readable end "
                    + limit + " of " + segment.logPath.getFileName());
        }
        int h = (int) (filePosition - windowStart);
        long storedOffset = window.getLong(h + RecordFormat.OFFSET_AT);
        int storedCrc = window.getInt(h + RecordFormat.CRC_AT);
        crc.reset();
        window.limit(h + frame).position(h + RecordFormat.CRC_FROM);
        crc.update(window);
        window.clear();
        if ((int) crc.getValue() != storedCrc) {
            throw corrupt("crc mismatch for record " + nextOffset + " at position " + filePosition + " of "
                    + segment.logPath.getFileName());
        }
        if (storedOffset != nextOffset) {
            throw corrupt("expected offset " + nextOffset + " at position " + filePosition + " of "
                    + segment.logPath.getFileName() + " but found " + storedOffset);
        }
        offset = nextOffset;
        timestamp = window.getLong(h + RecordFormat.TIMESTAMP_AT);
        payloadStart = h + HEADER;
        payloadLength = length;
        filePosition += frame;
        nextOffset++;
    }

    /** @return the validated length field of the record header at filePosition */
    private int headerLength(long limit) throws IOException {
        if (!available(filePosition, HEADER, limit)) {
            throw corrupt("no record header at position " + filePosition + " of " + segment.logPath.getFileName()
                    + " (readable size " + limit + ")");
        }
        int length = window.getInt((int) (filePosition - windowStart) + RecordFormat.LENGTH_AT);
        if (length < 0 || length > maxRecordBytes) {
            throw corrupt("record at position " + filePosition + " of " + segment.logPath.getFileName()
                    + " claims " + (length & 0xFFFF_FFFFL) + " bytes, above maxRecordBytes=" + maxRecordBytes);
        }
        return length;
    }

    /** Finds the segment and file position of {@code target} via the sparse index and a short forward scan. */
    private void position(long target) throws IOException {
        Segment seg = log.locate(target);
        long entry = seg.lookup(target);
        if (!scanTo(seg, seg.baseOffset + SparseIndex.relativeOffset(entry), SparseIndex.position(entry), target)) {
            // A stale or wrong index entry: fall back to the segment start.
            if (SparseIndex.position(entry) == 0 || !scanTo(seg, seg.baseOffset, 0, target)) {
                throw corrupt("cannot find offset " + target + " in " + seg.logPath.getFileName());
            }
        }
    }

    private boolean scanTo(Segment seg, long fromOffset, long fromPosition, long target) throws IOException {
        segment = seg;
        windowLength = 0;
        long limit = seg.size();
        long cur = fromOffset;
        long pos = fromPosition;
        while (true) {
            filePosition = pos;
            if (!available(pos, HEADER, limit)) {
                return false;
            }
            int h = (int) (pos - windowStart);
            int length = window.getInt(h + RecordFormat.LENGTH_AT);
            if (length < 0 || length > maxRecordBytes || window.getLong(h + RecordFormat.OFFSET_AT) != cur) {
                return false;
            }
            if (cur == target) {
                return true;
            }
            pos += HEADER + (long) length;
            cur++;
        }
    }

    /** Makes [pos, pos+n) of the current segment available in the window; false if it is not readable. */
    private boolean available(long pos, int n, long limit) throws IOException {
        if (pos >= windowStart && pos + n <= windowStart + windowLength) {
            return true;
        }
        if (pos + n > limit) {
            return false;
        }
        if (n > window.capacity()) {
            allocate((int) Math.min(Math.max((long) n, 2L * window.capacity()), (long) HEADER + maxRecordBytes));
        }
        window.clear();
        window.limit((int) Math.min(window.capacity(), limit - pos));
        windowStart = pos;
        windowLength = segment.read(window, pos);
        window.clear();
        return windowLength >= n;
    }

    private void allocate(int bytes) {
        int capacity = Math.max(bytes, HEADER);
        window = direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
        view = window.asReadOnlyBuffer();
        windowLength = 0;
        windowStart = 0;
    }

    private StorageException corrupt(String message) {
        windowLength = 0;
        return new StorageException(StorageException.Reason.CORRUPT, message);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("reader is closed");
        }
    }

    private void ensureRecord() {
        if (offset < 0) {
            throw new IllegalStateException("no current record: call next() first");
        }
    }

    /** @return the current record's offset */
    public long offset() {
        ensureRecord();
        return offset;
    }

    /** @return the current record's timestamp */
    public long timestampMillis() {
        ensureRecord();
        return timestamp;
    }

    /** @return the current record's payload length */
    public int payloadLength() {
        ensureRecord();
        return payloadLength;
    }

    /**
     * @return a read-only view of the current payload (position..limit); the same view object is reused and its
     *         contents are valid only until the next call to {@link #next()}, {@link #seek(long)} or
     *         {@link #close()}: copy what must outlive that
     */
    public ByteBuffer payload() {
        ensureRecord();
        view.clear();
        view.position(payloadStart).limit(payloadStart + payloadLength);
        return view;
    }

    /**
     * Copies the current payload into {@code dst} at {@code dstOffset}.
     *
     * @param dst       destination array
     * @param dstOffset where to start writing
     */
    public void copyPayload(byte[] dst, int dstOffset) {
        ensureRecord();
        window.get(payloadStart, dst, dstOffset, payloadLength);
    }

    /** @return the offset the next successful {@link #next()} will return */
    public long nextOffset() {
        return nextOffset;
    }

    /** Releases the reader. The log is unaffected. */
    @Override
    public void close() {
        closed = true;
        segment = null;
    }
}
