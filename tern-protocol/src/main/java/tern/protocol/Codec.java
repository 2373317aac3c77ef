package tern.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Field encodings shared by every frame: big-endian unsigned integers, {@code str} (u16 byte length,
 * then UTF-8) and {@code bytes} (u32 byte length, then raw bytes). Reads use absolute offsets and
 * check every length against the bytes that remain before touching memory.
 */
public final class Codec {
    /** A {@code str} field holds at most this many bytes (its u16 length). */
    public static final int MAX_STRING_BYTES = 0xFFFF;

    /** Reads an unsigned 16-bit integer. */
    public static int u16(ByteBuffer b, int offset) {
        return b.getShort(offset) & 0xFFFF;
    }

    /** Reads an unsigned 32-bit integer that must fit a Java int (not negative). */
    public static int u31(ByteBuffer b, int offset, String field) {
        int v = b.getInt(offset);
        if (v < 0) {
            throw malformed(field + " " + Integer.toUnsignedString(v) + " > " + Integer.MAX_VALUE);
        }
        return v;
    }

    /** Throws unless {@code need} bytes exist between offset and end. */
    public static void require(int offset, int need, int end, String field) {
        if (need < 0 || offset + need > end || offset + need < 0) {
            throw malformed(field + " needs " + need + " bytes, " + Math.max(0, end - offset) + " left");
        }
    }

    /** Length of the {@code str} at offset, checked against end; the bytes follow the 2-byte length. */
    public static int strBytes(ByteBuffer b, int offset, int end, String field) {
        require(offset, 2, end, field + " length");
        int len = u16(b, offset);
        require(offset + 2, len, end, field);
        return len;
    }

    /** Decodes the {@code str} at offset (2-byte length + UTF-8). */
    public static String str(ByteBuffer b, int offset, int end, String field) {
        int len = strBytes(b, offset, end, field);
        return utf8(b, offset + 2, len);
    }

    /** Decodes len UTF-8 bytes at offset without disturbing the buffer's position. */
    public static String utf8(ByteBuffer b, int offset, int len) {
        if (b.hasArray()) {
            return new String(b.array(), b.arrayOffset() + offset, len, StandardCharsets.UTF_8);
        }
        byte[] tmp = new byte[len];
        b.get(offset, tmp);
        return new String(tmp, StandardCharsets.UTF_8);
    }

    /** Writes a {@code str} at the buffer's position; throws if over {@link #MAX_STRING_BYTES}. */
    public static void putStr(ByteBuffer b, byte[] utf8) {
        if (utf8.length > MAX_STRING_BYTES) {
            throw new IllegalArgumentException("string of " + utf8.length + " bytes > " + MAX_STRING_BYTES);
        }
        b.putShort((short) utf8.length).put(utf8);
    }

    /** Writes a {@code bytes} field at the buffer's position. */
    public static void putBytes(ByteBuffer b, byte[] data) {
        b.putInt(data.length).put(data);
    }

    /** Encoded size of a {@code str} field holding these bytes. */
    public static int strSize(byte[] utf8) {
        return 2 + utf8.length;
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static ProtocolException malformed(String message) {
        return new ProtocolException(ErrorCode.MALFORMED_FRAME, message);
    }

    private Codec() {
    }
}
