package tern.protocol;

import java.nio.ByteBuffer;

/**
 * Where the fields of a PUB or MSG body lie, found without allocating. PUB and MSG bodies share one
 * layout, so a broker can forward a PUB body as a MSG body untouched:
 *
 * <pre>
 * subject  str                 always
 * reply    str                 when flags has REPLY
 * headers  u16 count, then count x (key str, value str)   when flags has HEADERS
 * payload  the remaining bytes of the frame
 * </pre>
 *
 * Reusable: call {@link #parse} per frame. Offsets are absolute within the buffer.
 */
public final class MessageLayout {
    private int subjectOffset;
    private int subjectBytes;
    private int replyOffset;
    private int replyBytes = -1;
    private int headersOffset;
    private int headersBytes;
    private int headerCount;
    private int payloadOffset;
    private int payloadBytes;

    /**
     * Parses the body of the frame starting at frameOffset (its length prefix) and spanning frameBytes.
     * Checks every field against the frame's end and the given limits.
     */
    public MessageLayout parse(ByteBuffer b, int frameOffset, int frameBytes, int maxSubjectBytes, int maxHeaders) {
        int flags = b.get(frameOffset + Frame.FLAGS_OFFSET) & 0xFF;
        int end = frameOffset + frameBytes;
        int p = frameOffset + Frame.BODY_OFFSET;

        subjectBytes = Codec.strBytes(b, p, end, "subject");
        if (subjectBytes > maxSubjectBytes) {
            throw new ProtocolException(ErrorCode.BAD_SUBJECT, "subject " + subjectBytes + " bytes > max " + maxSubjectBytes);
        }
        subjectOffset = p + 2;
        p = subjectOffset + subjectBytes;

        if ((flags & Flags.REPLY) != 0) {
            replyBytes = Codec.strBytes(b, p, end, "reply");
            if (replyBytes > maxSubjectBytes) {
                throw new ProtocolException(ErrorCode.BAD_SUBJECT, "reply " + replyBytes + " bytes > max " + maxSubjectBytes);
            }
            replyOffset = p + 2;
            p = replyOffset + replyBytes;
        } else {
            replyOffset = 0;
            replyBytes = -1;
        }

        if ((flags & Flags.HEADERS) != 0) {
            headersOffset = p;
            Codec.require(p, 2, end, "header count");
            headerCount = Codec.u16(b, p);
            if (headerCount > maxHeaders) {
                throw new ProtocolException(ErrorCode.LIMIT_EXCEEDED, "header count " + headerCount + " > max " + maxHeaders);
            }
            p += 2;
            for (int i = 0; i < headerCount; i++) {
                p += 2 + Codec.strBytes(b, p, end, "header key");
                p += 2 + Codec.strBytes(b, p, end, "header value");
            }
            headersBytes = p - headersOffset;
        } else {
            headersOffset = 0;
            headersBytes = 0;
            headerCount = 0;
        }
        payloadOffset = p;
        payloadBytes = end - p;
        return this;
    }

    public int subjectOffset() {
        return subjectOffset;
    }

    public int subjectBytes() {
        return subjectBytes;
    }

    public boolean hasReply() {
        return replyBytes >= 0;
    }

    public int replyOffset() {
        return replyOffset;
    }

    /** Length of the reply subject, or -1 when absent. */
    public int replyBytes() {
        return replyBytes;
    }

    /** Offset of the header block (its u16 count), or 0 when absent. */
    public int headersOffset() {
        return headersOffset;
    }

    /** Bytes of the whole header block including its count, 0 when absent. */
    public int headersBytes() {
        return headersBytes;
    }

    public int headerCount() {
        return headerCount;
    }

    public int payloadOffset() {
        return payloadOffset;
    }

    public int payloadBytes() {
        return payloadBytes;
    }
}
