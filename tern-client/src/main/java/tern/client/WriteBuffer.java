package tern.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import tern.protocol.Codec;
import tern.protocol.Flags;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;

/**
 * The outbound path: two direct buffers of {@code capacityBytes}. Publishers encode whole frames into
 * the active one under a short lock; whoever owns the socket ({@code writing}: the writer thread, or a
 * publisher that found the writer idle or the buffer full) swaps the buffers and writes the full one
 * without the lock, so many publishes coalesce into one socket write. Memory is bounded: when the
 * active buffer is full, publishers wait (or throw while detached). Frames larger than a buffer are
 * written directly, after everything buffered before them.
 *
 * <p>The last {@code reserveBytes} of the active buffer are kept for small control frames (PING, PONG,
 * SUB, UNSUB) so the reader's PONG and the heartbeat never wait behind publishes.
 *
 * <p>The channel is attached after a handshake and detached on disconnect; while detached, frames
 * stay buffered and {@link #retainPublishes()} drops the control frames that must not be replayed.
 */
final class WriteBuffer {
    /** A publish arriving this long after the previous one, with the writer parked, is written by its caller. */
    static final long IDLE_GAP_NANOS = 10_000;
    private static final ByteBuffer[] NO_PARTS = new ByteBuffer[0];

    /** Guards all fields; also held by the connection while it (re)creates subscriptions. */
    final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final int capacityBytes;
    private final int reserveBytes;
    private final Consumer<WritableByteChannel> onWriteFailure;
    private ByteBuffer active;
    private ByteBuffer spare;
    private WritableByteChannel sink;
    private boolean writing;
    private boolean closed;
    private volatile boolean writerParked;
    private volatile Thread writerThread;
    private long lastPutNanos;
    /** Bumped whenever the active buffer is swapped or compacted: an open ACK frame is only grown within one. */
    private long bufferEpoch;
    private long ackEpoch = -1;
    private int ackFrameStart;
    private int ackConsumerId;
    private volatile long lastWriteNanos = System.nanoTime();
    private volatile long writtenBytes;

    WriteBuffer(int capacityBytes, int reserveBytes, Consumer<WritableByteChannel> onWriteFailure) {
        if (reserveBytes < 64 || reserveBytes * 2 > capacityBytes) {
            throw new IllegalArgumentException("reserve " + reserveBytes + " for capacity " + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
        this.reserveBytes = reserveBytes;
        this.onWriteFailure = onWriteFailure;
        this.active = ByteBuffer.allocateDirect(capacityBytes);
        this.spare = ByteBuffer.allocateDirect(capacityBytes);
    }

    /** Largest frame that goes through the buffer; larger frames are written directly. */
    int maxBufferedFrameBytes() {
        return capacityBytes - reserveBytes;
    }

    // ---- producers --------------------------------------------------------------------------------------

    /** Appends a PUB frame (see {@link Frames#putPub}), waiting while the buffer is full. */
    void putPub(int id, byte[] subject, byte[] reply, byte[] headerBlock, byte[] payload, int offset, int length) {
        int frameBytes = Frames.pubBytes(subject, reply, headerBlock, length);
        if (frameBytes > maxBufferedFrameBytes()) {
            writeLargePub(id, subject, reply, headerBlock, payload, offset, length);
            return;
        }
        lock.lock();
        try {
            awaitRoom(frameBytes, maxBufferedFrameBytes());
            Frames.putPub(active, id, false, subject, reply, headerBlock, payload, offset, length);
            afterPut();
        } finally {
            lock.unlock();
        }
    }

    /** Writes one frame into a buffer (at its position); the frame's size was announced to {@link #putFrame}. */
    interface FrameWriter {
        void write(ByteBuffer dst);
    }

    /**
     * Appends a frame of frameBytes written by writer, waiting while the buffer is full; larger than a buffer, it
     * is written directly. With requireAttached the frame is refused (ConnectionClosedException) while no channel
     * is attached, instead of being kept for the next connection (queue sends: their confirms belong to one).
     */
    void putFrame(int frameBytes, boolean requireAttached, FrameWriter writer) {
        if (frameBytes > maxBufferedFrameBytes()) {
            ByteBuffer whole = ByteBuffer.allocate(frameBytes);
            writer.write(whole);
            writeLargeFrame(whole.flip());
            return;
        }
        lock.lock();
        try {
            if (requireAttached && (sink == null || closed)) {
                throw new ConnectionClosedException(closed ? "connection closed" : "not connected");
            }
            awaitRoom(frameBytes, maxBufferedFrameBytes());
            writer.write(active);
            afterPut();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Acknowledges a queue delivery: appends the token to the ACK frame at the end of the active buffer when it is
     * this consumer's, else starts a new ACK frame. So acks made while the socket is busy travel as one frame.
     * Dropped while detached (the server redelivers what the old connection held). False when dropped.
     */
    boolean putAck(int consumerId, long token) {
        lock.lock();
        try {
            if (sink == null || closed) {
                return false;
            }
            if (ackEpoch == bufferEpoch && ackConsumerId == consumerId
                    && ackFrameStart + active.getInt(ackFrameStart) + Frame.PREFIX_BYTES == active.position()
                    && active.position() + Frames.ACK_TOKEN_BYTES <= capacityBytes) {
                Frames.appendAckToken(active, ackFrameStart, token);
            } else {
                awaitRoom(Frames.ACK_ONE_BYTES, capacityBytes);
                ackFrameStart = active.position();
                ackConsumerId = consumerId;
                ackEpoch = bufferEpoch;
                Frames.putAck(active, consumerId, token);
            }
            afterPut();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A frame larger than the buffer: written directly after everything buffered before it. */
    private void writeLargeFrame(ByteBuffer frame) {
        writeDirect(frame.remaining(), "frame", frame);
    }

    /**
     * Writes parts (one frame of frameBytes) straight to the socket, after everything buffered before
     * them, for frames too large for the buffer. what names the frame in the error while disconnected.
     */
    private void writeDirect(int frameBytes, String what, ByteBuffer... parts) {
        lock.lock();
        try {
            while (writing && !closed && sink != null) {
                wakeWriter();
                awaitChange();
            }
            if (closed) {
                throw new ConnectionClosedException("connection closed");
            }
            if (sink == null) {
                throw new ConnectionClosedException("disconnected: a " + frameBytes + "-byte " + what
                        + " larger than the write buffer cannot be buffered");
            }
            writeOut(parts);
        } finally {
            lock.unlock();
        }
    }

    /** Appends a small control frame, waiting while even the reserve is full. */
    void putControl(Frame frame) {
        int frameBytes = Frames.encodedBytes(frame);
        lock.lock();
        try {
            awaitRoom(frameBytes, capacityBytes);
            Frames.encode(frame, active);
            afterPut();
        } finally {
            lock.unlock();
        }
    }

    /** Appends a small control frame if it fits now and a channel is attached; never waits for room. */
    boolean tryPutControl(Frame frame) {
        int frameBytes = Frames.encodedBytes(frame);
        lock.lock();
        try {
            if (closed || sink == null || active.remaining() < frameBytes) {
                return false;
            }
            Frames.encode(frame, active);
            afterPut();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void awaitRoom(int frameBytes, int limit) {
        while (active.position() + frameBytes > limit) {
            if (closed) {
                throw new ConnectionClosedException("connection closed");
            }
            if (sink == null) {
                throw new ConnectionClosedException("disconnected and the write buffer is full ("
                        + active.position() + " bytes buffered, frame " + frameBytes + " bytes)");
            }
            if (!writing && lock.getHoldCount() == 1) {
                writeOut();
            } else {
                wakeWriter();
                awaitChange();
            }
        }
    }

    private void afterPut() {
        long now = System.nanoTime();
        long gap = now - lastPutNanos;
        lastPutNanos = now;
        if (writing || sink == null) {
            return;
        }
        if (writerParked && gap > IDLE_GAP_NANOS && lock.getHoldCount() == 1) {
            // Low rate: one syscall here beats waking the writer thread (request/reply latency).
            writeOut();
        } else {
            wakeWriter();
        }
    }

    private void wakeWriter() {
        if (writerParked) {
            writerParked = false;
            Thread t = writerThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private void awaitChange() {
        try {
            changed.await(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted while waiting for write buffer space");
        }
    }

    /** {@link #writeOut(ByteBuffer...)} with nothing after the buffer. */
    private void writeOut() {
        writeOut(NO_PARTS);
    }

    /**
     * Lock held, not writing, sink attached: takes the active buffer and writes it, then {@code after} (frames too
     * large to buffer) in the same turn on the socket, without the lock. Returns with the lock held.
     */
    private void writeOut(ByteBuffer... after) {
        assert lock.isHeldByCurrentThread() && !writing && sink != null;
        writing = true;
        ByteBuffer full = active;
        active = spare;
        spare = full;
        bufferEpoch++;
        WritableByteChannel ch = sink;
        lock.unlock();
        try {
            full.flip();
            writeFully(ch, full);
            for (ByteBuffer part : after) {
                writeFully(ch, part);
            }
        } finally {
            lock.lock();
            full.clear();
            writing = false;
            changed.signalAll();
            wakeWriterIfPending();
        }
    }

    /** Frames appended while someone else owned the socket: the writer thread sends them. */
    private void wakeWriterIfPending() {
        if (active.position() > 0 && sink != null) {
            wakeWriter();
        }
    }

    private void writeFully(WritableByteChannel ch, ByteBuffer b) {
        try {
            while (b.hasRemaining()) {
                int n = ch.write(b);
                writtenBytes += n;
            }
            lastWriteNanos = System.nanoTime();
        } catch (IOException e) {
            // At-most-once: frames in this batch are lost; the reader sees the closed socket and reconnects.
            onWriteFailure.accept(ch);
        }
    }

    private void writeLargePub(int id, byte[] subject, byte[] reply, byte[] headerBlock, byte[] payload, int offset,
                               int length) {
        boolean hasHeaders = headerBlock != null && headerBlock.length > 0;
        int frameBytes = Frames.pubBytes(subject, reply, headerBlock, length);
        ByteBuffer head = ByteBuffer.allocate(frameBytes - length);
        int flags = (reply != null ? Flags.REPLY : 0) | (hasHeaders ? Flags.HEADERS : 0);
        Frames.putHeader(head, frameBytes - Frame.PREFIX_BYTES, FrameType.PUB, flags, id);
        Codec.putStr(head, subject);
        if (reply != null) {
            Codec.putStr(head, reply);
        }
        if (hasHeaders) {
            head.put(headerBlock);
        }
        head.flip();
        ByteBuffer body = ByteBuffer.wrap(payload, offset, length);
        writeDirect(frameBytes, "message", head, body);
    }

    // ---- writer thread ----------------------------------------------------------------------------------

    /** The writer thread's loop: writes whatever is buffered, parks when idle, calls tick at least every tickNanos. */
    void runWriter(long tickNanos, Runnable tick) {
        writerThread = Thread.currentThread();
        long nextTick = System.nanoTime() + tickNanos;
        while (true) {
            lock.lock();
            try {
                if (!writing && sink != null && active.position() > 0) {
                    writeOut();
                    continue;
                }
                if (closed) {
                    return;
                }
                writerParked = true;
            } finally {
                lock.unlock();
            }
            long now = System.nanoTime();
            if (now - nextTick >= 0) {
                writerParked = false;
                tick.run();
                nextTick = now + tickNanos;
                continue;
            }
            LockSupport.parkNanos(this, nextTick - now);
            writerParked = false;
        }
    }

    // ---- connection lifecycle ---------------------------------------------------------------------------

    /** Runs underLock (e.g. re-subscribing directly on ch) with the lock held, then attaches ch. */
    void attach(WritableByteChannel ch, Runnable underLock) {
        lock.lock();
        try {
            if (closed) {
                throw new ConnectionClosedException("connection closed");
            }
            if (underLock != null) {
                underLock.run();
            }
            sink = ch;
            lastWriteNanos = System.nanoTime();
            writerParked = true; // force a wake-up: buffered publishes go out now
            wakeWriter();
        } finally {
            lock.unlock();
        }
    }

    boolean isAttached() {
        lock.lock();
        try {
            return sink != null && !closed;
        } finally {
            lock.unlock();
        }
    }

    /** Detaches the channel and keeps only buffered PUB frames (control frames belong to the old session). */
    void detach() {
        lock.lock();
        try {
            sink = null;
            retainPublishes();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Writes what is buffered now (waiting for an ongoing write up to the deadline), then detaches. */
    void flushAndDetach(long deadlineNanos) {
        lock.lock();
        try {
            while (writing && sink != null && System.nanoTime() - deadlineNanos < 0) {
                awaitChangeQuietly();
            }
            if (!writing && sink != null && active.position() > 0) {
                writeOut();
            }
            sink = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void awaitChangeQuietly() {
        try {
            changed.await(10, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the writer; later puts throw. Buffered bytes not yet written are dropped. */
    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        Thread t = writerThread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Compacts the active buffer to its PUB frames (lock held). */
    void retainPublishes() {
        assert lock.isHeldByCurrentThread();
        int end = active.position();
        int read = 0;
        int write = 0;
        while (read < end) {
            int frameBytes = Frame.PREFIX_BYTES + active.getInt(read);
            if ((active.get(read + Frame.TYPE_OFFSET) & 0xFF) == FrameType.PUB.code()) {
                if (write != read) {
                    active.put(write, active, read, frameBytes);
                }
                write += frameBytes;
            }
            read += frameBytes;
        }
        assert read == end : "buffer holds whole frames only";
        active.position(write);
        bufferEpoch++;
    }

    /** Bytes buffered and not yet handed to a write (tests, diagnostics). */
    int bufferedBytes() {
        lock.lock();
        try {
            return active.position();
        } finally {
            lock.unlock();
        }
    }

    long writtenBytes() {
        return writtenBytes;
    }

    long lastWriteNanos() {
        return lastWriteNanos;
    }
}
