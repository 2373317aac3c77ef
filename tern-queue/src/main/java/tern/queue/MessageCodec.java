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

    static int encodedBytes(byte[] subject, byte[] headers, byte[] origin, byte[] payload) {
        return OVERHEAD_BYTES + subject.length + headers.length + (origin == null ? 0 : origin.length) + payload.length;
    }

    /** Encodes into b from position 0 and flips it. b has at least {@link #encodedBytes} capacity. */
    static void encode(ByteBuffer b, byte[] subject, byte[] headers, DeadLetter dead, byte[] origin, byte[] payload) {
        b.clear();
        b.put((byte) VERSION).put((byte) (dead == null ? 0 : FLAG_DEAD));
        b.putShort((short) subject.length).put(subject);
        b.putInt(headers.length).put(headers);
        if (dead != null) {
            b.putShort((short) origin.length).put(origin).put((byte) dead.reason().code()).putInt(dead.deliveryCount());
        }
        b.put(payload);
        b.flip();
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
