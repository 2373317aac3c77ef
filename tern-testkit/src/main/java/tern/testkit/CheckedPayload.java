package tern.testkit;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Self-describing payloads for crash tests: {@code i64 id | i32 body length | body | i32 crc32c(id..body)}, big
 * endian, where the body is a pure function of (seed, id). A consumer can therefore tell the id of anything it
 * receives, prove the bytes are exactly those sent ({@link #verify}), and spot ids that were never sent.
 */
public final class CheckedPayload {
    /** Largest body a payload carries. */
    public static final int MAX_BODY_BYTES = 4096;
    private static final int OVERHEAD_BYTES = Long.BYTES + Integer.BYTES + Integer.BYTES;

    private CheckedPayload() {
    }

    /** The payload for id: its body length is drawn from [minBody, maxBody] by (seed, id). */
    public static byte[] of(long seed, long id, int minBody, int maxBody) {
        if (minBody < 0 || maxBody < minBody || maxBody > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("body " + minBody + ".." + maxBody + " outside 0.." + MAX_BODY_BYTES);
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
        int bodyBytes = minBody == maxBody ? minBody : minBody + r.nextInt(maxBody - minBody + 1);
        ByteBuffer b = ByteBuffer.allocate(OVERHEAD_BYTES + bodyBytes);
        b.putLong(id).putInt(bodyBytes);
        for (int i = 0; i < bodyBytes; i++) {
            b.put((byte) r.nextInt(256));
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** The id of a payload, or -1 when it is too short to carry one. */
    public static long id(byte[] payload) {
        return payload.length < OVERHEAD_BYTES ? -1 : ByteBuffer.wrap(payload).getLong(0);
    }

    /**
     * Null when payload is byte-identical to {@code of(seed, id(payload), minBody, maxBody)}; else what is wrong.
     */
    public static String verify(byte[] payload, long seed, int minBody, int maxBody) {
        long id = id(payload);
        if (id < 0) {
            return "payload of " + payload.length + " bytes carries no id";
        }
        byte[] expected = of(seed, id, minBody, maxBody);
        if (!java.util.Arrays.equals(expected, payload)) {
            CRC32C crc = new CRC32C();
            crc.update(payload, 0, Math.max(0, payload.length - Integer.BYTES));
            boolean crcOk = payload.length >= OVERHEAD_BYTES
                    && ByteBuffer.wrap(payload).getInt(payload.length - Integer.BYTES) == (int) crc.getValue();
            return "payload of id " + id + " differs from what was sent (" + payload.length + " bytes, expected "
                    + expected.length + ", crc " + (crcOk ? "consistent: sent by someone else?" : "broken") + ")";
        }
        return null;
    }
}
