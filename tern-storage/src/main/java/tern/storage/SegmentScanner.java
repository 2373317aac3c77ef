package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Sequentially validates the records of one segment file: every frame's length, CRC32C and offset. Used by recovery
 * (tail segment, and any sealed segment whose cheap check failed) and to rebuild a lost index. Reads through a fixed
 * window and checksums payloads in pieces, so it allocates nothing per record whatever a (possibly corrupt) length
 * field says.
 */
final class SegmentScanner {

    /**
     * Outcome of a scan.
     *
     * @param validBytes         bytes from the start of the file that hold whole, valid records
     * @param endOffset          offset after the last valid record (= base offset if none)
     * @param records            number of valid records
     * @param lastRecordPosition position of the last valid record, -1 if none
     * @param maxTimestamp       greatest timestamp among valid records ({@link Long#MIN_VALUE} if none)
     * @param damage             why the scan stopped before the end of the file, or NONE
     * @param detail             a human-readable description of the damage
     */
    record Result(long validBytes, long endOffset, long records, long lastRecordPosition, long maxTimestamp,
                  RecoveryReport.Damage damage, String detail) {
    }

    private static final int WINDOW_BYTES = 1 << 20;

    private final FileChannel channel;
    private final long fileSize;
    private final int maxRecordBytes;
    private final ByteBuffer window;
    private final CRC32C crc = new CRC32C();
    private long windowStart;
    private int windowLength;

    SegmentScanner(FileChannel channel, long fileSize, int maxRecordBytes) {
        this.channel = channel;
        this.fileSize = fileSize;
        this.maxRecordBytes = maxRecordBytes;
        this.window = ByteBuffer.allocateDirect((int) Math.min(WINDOW_BYTES,
                Math.max(4096, Math.min(fileSize, (long) maxRecordBytes + RecordFormat.HEADER_BYTES))));
    }

    /**
     * Scans from the start of the file, adding sparse-index entries to {@code index} (if not null) exactly as the
     * writer does.
     */
    Result scan(long baseOffset, int indexIntervalBytes, SparseIndex index) throws IOException {
        long pos = 0;
        long expected = baseOffset;
        long lastPos = -1;
        long maxTs = Long.MIN_VALUE;
        long lastIndexed = 0;
        long records = 0;
        while (pos < fileSize) {
            long remaining = fileSize - pos;
            if (remaining < RecordFormat.HEADER_BYTES) {
                return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.TORN_HEADER,
                        "only " + remaining + " bytes left at position " + pos + ", a header needs "
                                + RecordFormat.HEADER_BYTES);
            }
            if (!ensure(pos, RecordFormat.HEADER_BYTES)) {
                return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.TORN_HEADER,
                        "file shorter than its size at position " + pos);
            }
            int h = (int) (pos - windowStart);
            int length = window.getInt(h + RecordFormat.LENGTH_AT);
            int storedCrc = window.getInt(h + RecordFormat.CRC_AT);
            long offset = window.getLong(h + RecordFormat.OFFSET_AT);
            long timestamp = window.getLong(h + RecordFormat.TIMESTAMP_AT);
            if (length < 0 || length > maxRecordBytes) {
                long lengthU = length & 0xFFFF_FFFFL;
                if (lengthU <= remaining - RecordFormat.HEADER_BYTES
                        && crcOf(pos + RecordFormat.CRC_FROM, RecordFormat.HEADER_BYTES - RecordFormat.CRC_FROM
                        + lengthU) == storedCrc && offset == expected) {
                    throw new StorageException(StorageException.Reason.CONFIG_MISMATCH, false,
                            "record " + offset + " at position " + pos + " is valid but holds " + lengthU
                                    + " bytes, more than maxRecordBytes=" + maxRecordBytes
                                    + "; refusing to truncate it: open the log with its original limit", null);
                }
                return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.BAD_LENGTH,
                        "length " + lengthU + " at position " + pos + " exceeds maxRecordBytes=" + maxRecordBytes);
            }
            long frame = RecordFormat.HEADER_BYTES + (long) length;
            if (frame > remaining) {
                return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.TORN_PAYLOAD,
                        "record at position " + pos + " needs " + frame + " bytes, only " + remaining + " left");
            }
            int actual = crcOf(pos + RecordFormat.CRC_FROM, frame - RecordFormat.CRC_FROM);
            if (actual != storedCrc) {
                return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.CRC_MISMATCH,
                        "crc mismatch for the record at position " + pos + " (expected offset " + expected + ")");
            }
            if (offset != expected) {
                return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.OFFSET_MISMATCH,
                        "record at position " + pos + " has offset " + offset + ", expected " + expected);
            }
            if (index != null && pos - lastIndexed >= indexIntervalBytes) {
                index.add(offset - baseOffset, pos);
                lastIndexed = pos;
            }
            lastPos = pos;
            maxTs = Math.max(maxTs, timestamp);
            expected++;
            records++;
            pos += frame;
        }
        return new Result(pos, expected, records, lastPos, maxTs, RecoveryReport.Damage.NONE, "");
    }

    /**
     * Cheap check of a sealed segment: is there a valid record with {@code expectedOffset} at {@code position} that
     * ends exactly at the end of the file?
     */
    boolean isValidLastRecord(long position, long expectedOffset) throws IOException {
        if (position < 0 || position + RecordFormat.HEADER_BYTES > fileSize
                || !ensure(position, RecordFormat.HEADER_BYTES)) {
            return false;
        }
        int h = (int) (position - windowStart);
        int length = window.getInt(h + RecordFormat.LENGTH_AT);
        if (length < 0 || length > maxRecordBytes
                || position + RecordFormat.HEADER_BYTES + length != fileSize
                || window.getLong(h + RecordFormat.OFFSET_AT) != expectedOffset) {
            return false;
        }
        int storedCrc = window.getInt(h + RecordFormat.CRC_AT);
        return crcOf(position + RecordFormat.CRC_FROM, RecordFormat.HEADER_BYTES - RecordFormat.CRC_FROM
                + (long) length) == storedCrc;
    }

    /** Makes [pos, pos+n) available in the window; false if the file ends first. */
    private boolean ensure(long pos, int n) throws IOException {
        if (pos >= windowStart && pos + n <= windowStart + windowLength) {
            return true;
        }
        fill(pos);
        return windowLength >= n;
    }

    private void fill(long pos) throws IOException {
        window.clear();
        window.limit((int) Math.min(window.capacity(), fileSize - pos));
        windowStart = pos;
        windowLength = RecordFormat.readFully(channel, window, pos);
    }

    private int crcOf(long from, long length) throws IOException {
        crc.reset();
        long p = from;
        long end = from + length;
        while (p < end) {
            if (p < windowStart || p >= windowStart + windowLength) {
                fill(p);
                if (windowLength == 0) {
                    return ~(int) crc.getValue();
                }
            }
            int start = (int) (p - windowStart);
            int n = (int) Math.min(windowLength - start, end - p);
            window.limit(start + n).position(start);
            crc.update(window);
            p += n;
        }
        window.clear();
        return (int) crc.getValue();
    }
}
