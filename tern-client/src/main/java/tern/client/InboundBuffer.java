package tern.client;

import java.nio.ByteBuffer;
import tern.protocol.Frame;
import tern.protocol.FrameDecoder;

/**
 * The reader's buffer: bytes from the socket accumulate here and whole frames are handed to a
 * {@link FrameSink} in place. A length is checked by the {@link FrameDecoder} (against the negotiated
 * maximum) before any room is made for it; a frame larger than the normal buffer gets a temporary
 * buffer of exactly its size, dropped once the frame is consumed.
 */
final class InboundBuffer {
    /** Receives one whole frame: bytes [offset, offset + frameBytes) of buf, prefix included. Must not keep buf. */
    interface FrameSink {
        void onFrame(ByteBuffer buf, int offset, int frameBytes);
    }

    private final FrameDecoder decoder;
    private final ByteBuffer normal;
    private ByteBuffer buf;
    private int start;

    InboundBuffer(int capacityBytes, int maxFrameBytes) {
        this.decoder = new FrameDecoder(maxFrameBytes);
        this.normal = ByteBuffer.allocate(capacityBytes);
        this.buf = normal;
    }

    void setMaxFrameBytes(int maxFrameBytes) {
        decoder.setMaxFrameBytes(maxFrameBytes);
    }

    /** Forgets everything buffered (a new connection). */
    void reset() {
        buf = normal;
        buf.clear();
        start = 0;
    }

    /** The buffer to read into: position at the end of the data, at least one byte of room. */
    ByteBuffer readTarget() {
        assert buf.hasRemaining();
        return buf;
    }

    /** Copies bytes in as if read from a socket (tests). Returns how many fit. */
    int feed(byte[] bytes, int offset, int length) {
        int n = Math.min(length, buf.remaining());
        buf.put(bytes, offset, n);
        return n;
    }

    int bufferedBytes() {
        return buf.position() - start;
    }

    /**
     * Hands up to maxFrames whole frames to sink, then makes room for the next read. Returns the
     * number of frames handed over. Throws ProtocolException on a bad length.
     */
    int drain(FrameSink sink, int maxFrames) {
        int end = buf.position();
        int frames = 0;
        while (frames < maxFrames) {
            int frameBytes = decoder.nextFrameBytes(buf, start, end - start);
            if (frameBytes == FrameDecoder.NEED_MORE) {
                break;
            }
            int at = start;
            start += frameBytes;
            frames++;
            sink.onFrame(buf, at, frameBytes);
        }
        makeRoom();
        return frames;
    }

    private void makeRoom() {
        int end = buf.position();
        int remaining = end - start;
        if (remaining == 0) {
            buf = normal;
            buf.clear();
            start = 0;
            return;
        }
        // A partial frame: its length (if known) was already checked by nextFrameBytes.
        int needed = remaining >= Frame.PREFIX_BYTES ? Frame.PREFIX_BYTES + buf.getInt(start) : Frame.PREFIX_BYTES;
        ByteBuffer target = buf;
        if (needed > buf.capacity()) {
            target = ByteBuffer.allocate(needed);
        } else if (buf != normal && needed <= normal.capacity()) {
            target = normal;
        }
        if (target != buf || start + needed > buf.capacity() || !buf.hasRemaining()) {
            if (target == buf) {
                buf.put(0, buf, start, remaining);
            } else {
                target.clear();
                target.put(0, buf, start, remaining);
            }
            target.position(remaining).limit(target.capacity());
            buf = target;
            start = 0;
        }
    }
}
