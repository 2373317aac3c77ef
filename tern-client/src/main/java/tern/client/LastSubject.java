package tern.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The subject string for a run of UTF-8 bytes in a frame, reusing the last one while the bytes repeat, as they
 * do for a subscription or a queue that delivers one subject: no String per message. One thread (the reader).
 */
final class LastSubject {
    private byte[] lastBytes = new byte[0];
    private String last = "";

    /** The string for the {@code length} bytes at {@code offset} (absolute) of b. */
    String of(ByteBuffer b, int offset, int length) {
        if (length == lastBytes.length && b.hasArray()) {
            int from = b.arrayOffset() + offset;
            if (Arrays.equals(b.array(), from, from + length, lastBytes, 0, length)) {
                return last;
            }
        }
        byte[] copy = new byte[length];
        b.get(offset, copy);
        lastBytes = copy;
        last = new String(copy, StandardCharsets.UTF_8);
        return last;
    }
}
