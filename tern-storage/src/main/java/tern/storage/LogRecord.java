package tern.storage;

import java.nio.ByteBuffer;

/**
 * One record read back from the log by {@link SegmentedLog#read(long)}. Its CRC was verified.
 *
 * @param offset          the record's logical position in the log
 * @param timestampMillis the timestamp given at append time
 * @param payload         a read-only buffer holding exactly the payload (position 0, limit = length); owned by the
 *                        caller
 */
public record LogRecord(long offset, long timestampMillis, ByteBuffer payload) {

    /** @return a copy of the payload bytes */
    public byte[] payloadBytes() {
        byte[] bytes = new byte[payload.remaining()];
        payload.duplicate().get(bytes);
        return bytes;
    }
}
