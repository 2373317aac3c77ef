package tern.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The on-disk record frame and file naming. All integers big-endian.
 * <pre>
 *  0        4        8                16               24
 *  +--------+--------+----------------+----------------+---------------------+
 *  | length | crc32c | offset         | timestampMillis| payload (length B)  |
 *  |  u32   |  u32   |  u64           |  u64           |                     |
 *  +--------+--------+----------------+----------------+---------------------+
 *                    |&lt;------------- covered by crc32c ---------------------&gt;|
 * </pre>
 * {@code length} is the payload length in bytes.
 */
final class RecordFormat {

    static final int HEADER_BYTES = 24;
    static final int LENGTH_AT = 0;
    static final int CRC_AT = 4;
    static final int OFFSET_AT = 8;
    static final int TIMESTAMP_AT = 16;
    /** The CRC covers the frame from here to its end. */
    static final int CRC_FROM = 8;

    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final int NAME_DIGITS = 20;

    private RecordFormat() {
    }

    static String fileName(long baseOffset, String suffix) {
        String digits = Long.toString(baseOffset);
        StringBuilder sb = new StringBuilder(NAME_DIGITS + suffix.length());
        for (int i = digits.length(); i < NAME_DIGITS; i++) {
            sb.append('0');
        }
        return sb.append(digits).append(suffix).toString();
    }

    static Path logPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset, LOG_SUFFIX));
    }

    static Path indexPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset, INDEX_SUFFIX));
    }

    /** @return the base offset encoded in a file name with the given suffix, or -1 if it is not such a name */
    static long parseBaseOffset(String name, String suffix) {
        if (name.length() != NAME_DIGITS + suffix.length() || !name.endsWith(suffix)) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < NAME_DIGITS; i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
            if (value < 0) {
                return -1;
            }
        }
        return value;
    }

    /** Reads until {@code dst} is full or end of file; returns the number of bytes read. */
    static int readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** Reads exactly {@code dst.remaining()} bytes or throws {@link EOFException}. */
    static void readExactly(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        int want = dst.remaining();
        if (readFully(ch, dst, position) != want) {
            throw new EOFException("unexpected end of file at " + position);
        }
    }

    /** Writes all of {@code src} at {@code position}. */
    static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
        long p = position;
        while (src.hasRemaining()) {
            p += ch.write(src, p);
        }
    }

    /** Whether an exception means the device or quota is full (Java exposes no errno; match the strerror text). */
    static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded")
                    || m.contains("There is not enough space on the disk"))) {
                return true;
            }
        }
        return false;
    }
}
