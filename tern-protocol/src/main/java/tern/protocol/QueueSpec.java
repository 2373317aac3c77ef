package tern.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A queue's options as carried by QDECLARE and QINFO (docs/protocol.md 6.15). Zero means "none" for every limit
 * and timeout; {@code fsyncIntervalMillis} 0 means fsync before confirm (group commit).
 *
 * <pre>
 * flags               u8   bit 0 durable, bit 1 noAck, bit 2 overflow DROP_HEAD (else REJECT); others 0
 * fsyncIntervalMillis u32  0 = fsync before confirm
 * messageTtlMillis    u64
 * expiryMillis        u64
 * ackTimeoutMillis    u64
 * maxLengthMessages   u64
 * maxLengthBytes      u64
 * maxDeliveries       u32
 * deadLetterQueue     str  "" = none
 * bindings            u16 count, then count x str (subject patterns)
 * </pre>
 */
public record QueueSpec(boolean durable, boolean noAck, boolean dropHead, int fsyncIntervalMillis,
                        long messageTtlMillis, long expiryMillis, long ackTimeoutMillis, long maxLengthMessages,
                        long maxLengthBytes, int maxDeliveries, String deadLetterQueue, List<String> bindings) {
    static final int DURABLE = 0x01;
    static final int NO_ACK = 0x02;
    static final int DROP_HEAD = 0x04;
    /** Fixed-size part of the block: flags through maxDeliveries. */
    static final int FIXED_BYTES = 1 + 4 + 5 * 8 + 4;

    public QueueSpec {
        Objects.requireNonNull(deadLetterQueue, "deadLetterQueue");
        bindings = List.copyOf(bindings);
        if (bindings.size() > 0xFFFF) {
            throw new IllegalArgumentException(bindings.size() + " bindings > 65535");
        }
    }

    int flags() {
        return (durable ? DURABLE : 0) | (noAck ? NO_ACK : 0) | (dropHead ? DROP_HEAD : 0);
    }

    int encodedBytes() {
        int n = FIXED_BYTES + 2 + Codec.utf8(deadLetterQueue).length + 2;
        for (String b : bindings) {
            n += 2 + Codec.utf8(b).length;
        }
        return n;
    }
}
