package tern.queue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import tern.storage.LogRecord;

/**
 * The payload of one record in a queue's message log (the log record adds length, CRC, offset and the publish
 * timestamp). Big endian:
 *
 * <pre>
 * u8  version (1)
 * u8  flags: bit 0 = dead-letter block present; other bits zero
 * u16 subject length, subject (UTF-8)
 * i32 headers length, headers (opaque)
 * [u16 origin-queue length, origin queue, u8 reason, i32 delivery count]   when flags bit 0
 * payload: the rest of the record
 * </pre>
 */
final class MessageCodec {
    static final int VERSION = 1;
    static final int FLAG_DEAD = 1;
    /** Fixed bytes besides subject, headers, origin and payload. */
    static final int OVERHEAD_BYTES = 1 + 1 + 2 + 4 + 2 + 1 + 4;

    /**
     * Encodes one record into b at index {@code at} (absolute puts; b's position and limit are unchanged) and
     * returns the index after it. b has room for the record from at ({@link RecordEncoder#maxEncodedBytes} bytes are
     * enough).
     */
    static int encode(ByteBuffer b, int at, byte[] subject, byte[] headers, DeadLetter dead, byte[] origin,
                      byte[] payload) {
        int p = at;
        b.put(p, (byte) VERSION).put(p + 1, (byte) (dead == null ? 0 : FLAG_DEAD));
        b.putShort(p + 2, (short) subject.length).put(p + 4, subject);
        p += 4 + subject.length;
        b.putInt(p, headers.length).put(p + 4, headers);
        p += 4 + headers.length;
        if (dead != null) {
            b.putShort(p, (short) origin.length).put(p + 2, origin);
            p += 2 + origin.length;
            b.put(p, (byte) dead.reason().code()).putInt(p + 1, dead.deliveryCount());
            p += 5;
        }
        b.put(p, payload);
        return p + payload.length;
    }

    /** Decodes a recovered record; throws IllegalStateException when it does not match the layout. */
    static QueuedMessage decode(LogRecord r, int deliveryCount) {
        ByteBuffer b = r.payload().duplicate();
        try {
            int version = b.get() & 0xFF;
            int flags = b.get() & 0xFF;
            if (version != VERSION || (flags & ~FLAG_DEAD) != 0) {
                throw new IllegalStateException("message record at offset " + r.offset() + " has version " + version
                        + " flags " + flags);
            }
            String subject = string(b, b.getShort() & 0xFFFF);
            byte[] headers = bytes(b, b.getInt());
            DeadLetter dead = null;
            if ((flags & FLAG_DEAD) != 0) {
                String origin = string(b, b.getShort() & 0xFFFF);
                DeadLetterReason reason = DeadLetterReason.of(b.get());
                dead = new DeadLetter(origin, reason, b.getInt());
            }
            byte[] payload = bytes(b, b.remaining());
            return new QueuedMessage(r.offset(), r.timestampMillis(), subject, headers, payload, dead, deliveryCount);
        } catch (RuntimeException e) {
            if (e instanceof IllegalStateException) {
                throw e;
            }
            throw new IllegalStateException("message record at offset " + r.offset() + " is malformed: " + e, e);
        }
    }

    private static String string(ByteBuffer b, int len) {
        return new String(bytes(b, len), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer b, int len) {
        if (len < 0 || len > b.remaining()) {
            throw new IllegalStateException("field of " + len + " bytes exceeds the " + b.remaining() + " left");
        }
        byte[] a = new byte[len];
        b.get(a);
        return a;
    }

    private MessageCodec() {
    }
}
