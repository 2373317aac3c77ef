package tern.broker.queue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import tern.protocol.ErrorCode;

/**
 * What a {@link QueueSession} needs from its connection's session: its event loop and its output batch. Every
 * method but {@link #loop()} and {@link #isWritable()} runs on that loop.
 */
public interface QueueChannel {
    /** The connection's event loop: every write happens on it. */
    EventLoop loop();

    /** The socket can take more (thread-safe): deliveries pause when it cannot. */
    boolean isWritable();

    /** The session can still send (not closing or closed). */
    boolean isOpen();

    /** A buffer with room for frameBytes more bytes, appended to the connection's output batch. */
    ByteBuf buffer(int frameBytes);

    /** Frames were appended with {@link #buffer}: flush them at the end of the burst. */
    void written();

    /** Sends ERROR(code, id) without closing, as the session does for its own non-closing errors. */
    void error(int id, ErrorCode code, String text);

    /** Flushes now (after work handed over from another thread, outside a read burst). */
    void flush();

    /** The negotiated largest frame body the client accepts. */
    int maxFrameBytes();

    /** Most consumers one connection may attach (the subscription limit). */
    int maxConsumers();

    /** Most header entries in one message. */
    int maxHeaders();

    /** For logs. */
    String describe();
}
