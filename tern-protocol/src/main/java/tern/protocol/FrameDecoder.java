package tern.protocol;

import java.nio.ByteBuffer;

/**
 * Finds the next whole frame without allocating. One per connection; the maximum can be lowered
 * after the handshake (pre-authentication frames are held to a smaller bound).
 */
public final class FrameDecoder {
    public static final int NEED_MORE = 0;
    private int maxFrameBytes;

    public FrameDecoder(int maxFrameBytes) {
        setMaxFrameBytes(maxFrameBytes);
    }

    public void setMaxFrameBytes(int maxFrameBytes) {
        if (maxFrameBytes < Frame.HEADER_BYTES || maxFrameBytes > Limits.ABSOLUTE_MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    /**
     * Size of the whole frame (prefix included) at offset, or {@link #NEED_MORE}. Checks the length
     * before anything is buffered for it. Throws ProtocolException on a length out of range.
     */
    public int nextFrameBytes(ByteBuffer in, int offset, int available) {
        if (available < Frame.PREFIX_BYTES) {
            return NEED_MORE;
        }
        int bodyBytes = in.getInt(offset);
        return checkedFrameBytes(bodyBytes, available);
    }

    /** The same check for callers holding the length already (e.g. read from a Netty buffer). */
    public int checkedFrameBytes(int bodyBytes, int available) {
        if (bodyBytes < Frame.HEADER_BYTES || bodyBytes > maxFrameBytes) {
            throw new ProtocolException(ErrorCode.BAD_FRAME_LENGTH, "frame body "
                    + Integer.toUnsignedString(bodyBytes) + " bytes, allowed " + Frame.HEADER_BYTES + ".." + maxFrameBytes);
        }
        int frameBytes = Frame.PREFIX_BYTES + bodyBytes;
        return available < frameBytes ? NEED_MORE : frameBytes;
    }
}
