package tern.broker.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.broker.ByteBufs;
import tern.broker.queue.QueueChannel;
import tern.broker.queue.QueueService;
import tern.broker.queue.QueueSession;
import tern.broker.routing.RouteCache;
import tern.broker.routing.SubjectMatch;
import tern.broker.security.Access;
import tern.broker.guard.LogLimiter;
import tern.broker.security.Login;
import tern.broker.tls.TlsPeer;
import tern.protocol.ErrorCode;
import tern.protocol.Flags;
import tern.protocol.Frame;
import tern.protocol.FrameDecoder;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;
import tern.protocol.SlowConsumerPolicy;
import tern.protocol.Subjects;

/**
 * One client connection: the frame decoder, the handshake, the client's subscriptions and the
 * output path to its socket. Every method runs on the channel's event loop, except where noted.
 *
 * <p>Input: frames are cut straight out of Netty's read buffers; only a frame split across reads
 * is copied (into a buffer that never holds more than that one frame). Output: small frames are
 * coalesced into one batch buffer; a MSG whose frame is at least {@link #COPY_BELOW_BYTES} is a
 * 12-byte header plus a retained slice of the publisher's buffer (no payload copy). Nothing is
 * flushed until the end of the read burst ({@link Outbox#flushAll()}).
 */
public final class Session extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Session.class);
    /** Lines about connections closed for timeouts or protocol errors: a flood must not flood the log. */
    private static final LogLimiter closeLog = new LogLimiter(20);

    /** MSG frames smaller than this are copied into the batch buffer; larger ones are sliced. */
    static final int COPY_BELOW_BYTES = 2048;
    /** Largest batch buffer for coalesced small frames. */
    static final int BATCH_MAX_BYTES = 64 << 10;
    /** Initial capacity of a batch buffer (it grows, pooled, up to {@link #BATCH_MAX_BYTES}). */
    private static final int BATCH_INITIAL_BYTES = 512;
    /**
     * Flow control: a publisher paused for a subscriber whose output is backed up resumes anyway when
     * that output has not shrunk for this long; the subscriber's slow-consumer policy then applies.
     */
    static final long THROTTLE_STALL_MILLIS = 2_000;
    /** After an ERROR that closes, how long the peer gets to read it before the socket is closed anyway. */
    static final long ERROR_LINGER_MILLIS = 5_000;
    private static final int MSG_FLAGS = Flags.REPLY | Flags.HEADERS | Flags.NO_RESPONDERS;

    /** AUTH: HELLO named a mechanism (or is held by the login throttle); only AUTH answering a CHALLENGE is allowed. */
    private enum State { PREFACE, HELLO, AUTH, OPEN, CLOSING }

    private final Sessions sessions;
    private final Channel channel;
    private final Limits limits;
    private final Counters counters;
    private final FrameDecoder decoder;
    private final IntObjectHashMap<Subscription> subscriptions = new IntObjectHashMap<>();
    private final ArrayDeque<Subscription> slow = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private EventLoop loop;
    private Outbox outbox;
    private RouteCache routeCache;
    private State state = State.PREFACE;
    private boolean admitted;
    private int prefaceMatched;
    private ByteBuf partial;
    private ByteBuf batch;
    private boolean dirty;
    private boolean drainArmed;
    private boolean goAwaySent;
    /** As a subscriber: publishers on this loop paused until this connection's output drains (no duplicates). */
    private ArrayList<Session> throttledPublishers;
    /** As a subscriber: a stalled throttle expired; publishers are not paused for it again until it drains. */
    private boolean throttleExpired;
    private long throttlePendingBytes;
    private ScheduledFuture<?> throttleTimer;
    /** As a publisher: how many subscribers' backlogs hold this connection's reads paused. */
    private int throttles;
    private int maxFrameBytes;
    private long waitingBytes;
    private long lastReadNanos;
    private long lastWriteNanos;
    private int pingId;
    private ScheduledFuture<?> handshakeTimer;
    private ScheduledFuture<?> heartbeat;
    private String clientName = "";
    /** docs/security.md: the login in progress (HELLO .. WELCOME), then what the user may do. */
    private Login login;
    private Frame.Hello hello;
    private Access access = Access.open();
    /** Durable-queue frames of this connection (docs/protocol.md 16), created on first use. */
    private QueueSession queues;

    Session(Sessions sessions, Channel channel) {
        this.sessions = sessions;
        this.channel = channel;
        this.limits = sessions.limits();
        this.counters = sessions.counters();
        this.decoder = new FrameDecoder(limits.maxPreAuthFrameBytes());
        this.maxFrameBytes = limits.maxFrameBytes();
    }

    EventLoop loop() {
        return channel.eventLoop();
    }

    // ---- lifecycle --------------------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.loop = ctx.channel().eventLoop();
        this.outbox = sessions.outbox(loop);
        this.routeCache = outbox.routeCache;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        long now = System.nanoTime();
        lastReadNanos = now;
        lastWriteNanos = now;
        if (!sessions.admit(this)) {
            counters.connectionsRejected.increment();
            String reason = sessions.shuttingDown() ? "server shutting down"
                    : "max connections " + limits.maxConnections() + " reached";
            log.warn("rejected connection from {}: {}", peer(), reason);
            ErrorCode code = sessions.shuttingDown() ? ErrorCode.SERVER_SHUTDOWN : ErrorCode.TOO_MANY_CONNECTIONS;
            closeWithError(code, 0, reason, true);
            return;
        }
        admitted = true;
        handshakeTimer = loop.schedule(this::handshakeExpired, limits.handshakeTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
        long ping = limits.pingInterval().toNanos();
        long idle = limits.idleTimeout().toNanos();
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(ping / 2, idle / 4));
        heartbeat = loop.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        state = State.CLOSING;
        cancelTimers();
        releaseThrottledPublishers();
        removeAllSubscriptions();
        closeQueues();
        if (partial != null) {
            partial.release();
            partial = null;
        }
        if (batch != null) {
            batch.release();
            batch = null;
        }
        if (admitted) {
            sessions.release(this);
            admitted = false;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("connection {} failed: {}", peer(), cause.toString());
            ctx.close();
            return;
        }
        log.error("unexpected error on connection {}", peer(), cause);
        closeWithError(ErrorCode.INTERNAL_ERROR, 0, "internal error", true);
    }

    // ---- input --------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            outbox.bytesIn += in.readableBytes();
            if (state == State.CLOSING) {
                return;
            }
            lastReadNanos = System.nanoTime();
            if (state == State.PREFACE && !readPreface(in)) {
                return;
            }
            outbox.publisher = this;
            if (partial != null && !completePartial(in)) {
                return;
            }
            readFrames(in);
        } catch (ProtocolException e) {
            protocolError(e);
        } finally {
            outbox.publisher = null;
            in.release();
        }
        pauseReadingIfBackedUp();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (queues != null) {
            queues.flushSends();
        }
        outbox.flushAll();
        pauseReadingIfBackedUp();
    }

    /**
     * rule 11: a connection whose own output is backed up, or whose messages go to a subscriber whose
     * output is backed up (flow control, see {@link #throttle}), is not read from until they drain.
     */
    private void pauseReadingIfBackedUp() {
        if (state != State.CLOSING && (throttles > 0 || !channel.isWritable()) && channel.config().isAutoRead()) {
            channel.config().setAutoRead(false);
        }
    }

    private void resumeReadingIfDrained() {
        if (state != State.CLOSING && throttles == 0 && channel.isWritable() && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel.isWritable() && state != State.CLOSING) {
            throttleExpired = false;
            releaseThrottledPublishers();
            drainWaiting();
            if (queues != null) {
                queues.onWritable();
            }
            resumeReadingIfDrained();
            outbox.flushAll();
        }
    }

    private boolean readPreface(ByteBuf in) {
        while (prefaceMatched < Frame.PREFACE.length && in.isReadable()) {
            byte b = in.readByte();
            if (b != Frame.PREFACE[prefaceMatched]) {
                throw new ProtocolException(ErrorCode.BAD_PREFACE, "byte " + prefaceMatched + " of the preface is 0x"
                        + Integer.toHexString(b & 0xFF) + ", expected 0x" + Integer.toHexString(Frame.PREFACE[prefaceMatched]));
            }
            prefaceMatched++;
        }
        if (prefaceMatched < Frame.PREFACE.length) {
            return false;
        }
        state = State.HELLO;
        return true;
    }

    /** Adds bytes from in to the split frame; handles it once whole. False when more input is needed. */
    private boolean completePartial(ByteBuf in) {
        if (partial.readableBytes() < Frame.PREFIX_BYTES) {
            partial.writeBytes(in, Math.min(Frame.PREFIX_BYTES - partial.readableBytes(), in.readableBytes()));
            if (partial.readableBytes() < Frame.PREFIX_BYTES) {
                return false;
            }
        }
        int frameBytes = decoder.checkedFrameBytes(partial.getInt(partial.readerIndex()), Integer.MAX_VALUE);
        int missing = frameBytes - partial.readableBytes();
        partial.writeBytes(in, Math.min(missing, in.readableBytes()));
        if (partial.readableBytes() < frameBytes) {
            return false;
        }
        ByteBuf frame = partial;
        partial = null;
        try {
            handleFrame(frame, frame.readerIndex(), frameBytes);
        } finally {
            frame.release();
        }
        return state != State.CLOSING;
    }

    private void readFrames(ByteBuf in) {
        while (state != State.CLOSING) {
            int readable = in.readableBytes();
            if (readable < Frame.PREFIX_BYTES) {
                break;
            }
            int index = in.readerIndex();
            int frameBytes = decoder.checkedFrameBytes(in.getInt(index), readable);
            if (frameBytes == FrameDecoder.NEED_MORE) {
                break;
            }
            handleFrame(in, index, frameBytes);
            in.readerIndex(index + frameBytes);
        }
        if (state != State.CLOSING && in.isReadable()) {
            // One frame split across reads: keep only its bytes; its length (if known) is already checked.
            int readable = in.readableBytes();
            int maxCapacity = Frame.PREFIX_BYTES + decoder.maxFrameBytes();
            partial = ctx.alloc().directBuffer(Math.min(maxCapacity, Math.max(256, readable * 2)), maxCapacity);
            partial.writeBytes(in);
        }
    }

    private void handleFrame(ByteBuf buf, int index, int frameBytes) {
        int code = buf.getUnsignedByte(index + Frame.TYPE_OFFSET);
        FrameType type = FrameType.of(code);
        if (type == null) {
            throw new ProtocolException(ErrorCode.UNKNOWN_FRAME_TYPE, "frame type 0x" + Integer.toHexString(code)
                    + " is not defined");
        }
        if (!type.sentByClient()) {
            // protocol.md 5.1: before WELCOME any frame but HELLO is unexpected; after it, a
            // server-only type is unknown in the client's direction.
            throw new ProtocolException(state == State.HELLO || state == State.AUTH ? ErrorCode.UNEXPECTED_FRAME : ErrorCode.UNKNOWN_FRAME_TYPE,
                    type + " is not sent by clients");
        }
        int flags = buf.getUnsignedByte(index + Frame.FLAGS_OFFSET);
        if ((flags & ~Flags.allowed(type)) != 0) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, type + " flags 0x" + Integer.toHexString(flags)
                    + " outside 0x" + Integer.toHexString(Flags.allowed(type)));
        }
        if (buf.getShort(index + Frame.RESERVED_OFFSET) != 0) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, type + " reserved header bytes not zero");
        }
        int id = buf.getInt(index + Frame.ID_OFFSET);
        if (queues != null && type != FrameType.SEND && type != FrameType.ACK) {
            // SENDs are gathered per read burst (QueueSession.flushSends); anything else sees them published first.
            queues.flushSends();
        }
        if (state == State.HELLO) {
            if (type != FrameType.HELLO) {
                throw new ProtocolException(ErrorCode.UNEXPECTED_FRAME, type + " before WELCOME (send HELLO first)");
            }
            onHello((Frame.Hello) decode(buf, index, frameBytes));
            return;
        }
        if (state == State.AUTH) {
            if (type != FrameType.AUTH || !login.awaitingAuth()) {
                throw new ProtocolException(ErrorCode.UNEXPECTED_FRAME, type + " before WELCOME (authentication in"
                        + " progress: only AUTH answering a CHALLENGE)");
            }
            authStep(login.auth(((Frame.Auth) decode(buf, index, frameBytes)).data()));
            return;
        }
        try {
            switch (type) {
                case PUB -> onPub(buf, index, frameBytes, flags, id);
                case PING -> {
                    requireEmptyBody(type, frameBytes);
                    writeHeaderOnly(FrameType.PONG, 0, id);
                }
                case PONG -> requireEmptyBody(type, frameBytes);
                case SUB -> onSub((Frame.Sub) decode(buf, index, frameBytes));
                case UNSUB -> onUnsub((Frame.Unsub) decode(buf, index, frameBytes));
                case QDECLARE, QDELETE, QPURGE, QLIST, QREDRIVE, QBIND, SEND, CONSUME, CANCEL, ACK, NACK, REJECT -> {
                    access.checkQueueFrame(type, buf, index, frameBytes, limits);
                    queueSession().onFrame(type, buf, index, frameBytes, flags, id);
                }
                case HELLO -> throw new ProtocolException(ErrorCode.UNEXPECTED_FRAME, "second HELLO");
                case AUTH -> throw new ProtocolException(ErrorCode.UNEXPECTED_FRAME, "AUTH without a CHALLENGE");
                default -> throw new ProtocolException(ErrorCode.UNKNOWN_FRAME_TYPE, type + " is not sent by clients");
            }
        } catch (ProtocolException e) {
            if (e.code().closesConnection()) {
                throw e;
            }
            sendError(id, e.code(), e.getMessage());
        }
    }

    private Frame decode(ByteBuf buf, int index, int frameBytes) {
        return Frames.decode(buf.nioBuffer(index, frameBytes), limits);
    }

    private static void requireEmptyBody(FrameType type, int frameBytes) {
        if (frameBytes != Frame.BODY_OFFSET) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, type + " has "
                    + (frameBytes - Frame.BODY_OFFSET) + " unexpected body bytes");
        }
    }

    // ---- handshake ----------------------------------------------------------------------------------

    private void onHello(Frame.Hello hello) {
        if (hello.minVersion() > Frame.VERSION || hello.maxVersion() < hello.minVersion()) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION, "client speaks versions " + hello.minVersion()
                    + ".." + hello.maxVersion() + ", server " + Frame.VERSION);
        }
        this.hello = hello;
        login = sessions.authenticator().newLogin(peer(), TlsPeer.commonName(channel).orElse(null));
        Duration hold = login.holdBeforeHello();
        if (hold.isZero()) {
            authStep(login.hello(hello.authMechanism(), hello.authData()));
            return;
        }
        // security.md 6: an address still in its login penalty waits it out before its attempt is read;
        // meanwhile any frame is UNEXPECTED_FRAME (no CHALLENGE is outstanding).
        state = State.AUTH;
        loop.schedule(() -> {
            if (state != State.AUTH || login.awaitingAuth()) {
                return;
            }
            try {
                authStep(login.hello(hello.authMechanism(), hello.authData()));
            } catch (ProtocolException e) {
                protocolError(e);
            }
            outbox.flushAll();
        }, hold.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Carries out the login's next move (docs/security.md, "Mechanisms and frames"). */
    private void authStep(Login.Step step) {
        if (step instanceof Login.Challenge c) {
            state = State.AUTH;
            writeFrame(new Frame.Challenge(c.data()));
        } else if (step instanceof Login.Success ok) {
            access = ok.access();
            login = null;
            welcome(ok.authData());
        } else if (step instanceof Login.Failure f) {
            // One fixed answer whatever failed, held for the throttle's delay without blocking the loop.
            state = State.CLOSING;
            counters.error(ErrorCode.AUTH_FAILED);
            cancelTimers();
            channel.config().setAutoRead(false);
            loop.schedule(() -> writeClosingError(ErrorCode.AUTH_FAILED, 0, Login.FAILED_TEXT),
                    f.hold().toNanos(), TimeUnit.NANOSECONDS);
        } else if (step instanceof Login.Refusal r) {
            throw new ProtocolException(r.code(), r.text());
        }
    }

    private void welcome(byte[] authData) {
        Frame.Hello hello = this.hello;
        this.hello = null;
        int version = Math.min(hello.maxVersion(), Frame.VERSION);
        int asked = hello.maxFrameBytes();
        maxFrameBytes = asked == 0 ? limits.maxFrameBytes()
                : Math.max(Frame.HEADER_BYTES + 64, Math.min(asked, limits.maxFrameBytes()));
        clientName = hello.clientName();
        decoder.setMaxFrameBytes(maxFrameBytes);
        state = State.OPEN;
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
            handshakeTimer = null;
        }
        writeFrame(new Frame.Welcome(version, maxFrameBytes, limits.maxSubjectBytes(), limits.maxHeaders(),
                limits.maxSubscriptions(), (int) limits.pingInterval().toMillis(), (int) limits.idleTimeout().toMillis(),
                0, sessions.serverId(), sessions.serverVersion(), authData));
        if (sessions.shuttingDown()) {
            goAway();
        }
    }

    private void handshakeExpired() {
        handshakeTimer = null;
        if (state == State.PREFACE || state == State.HELLO || state == State.AUTH) {
            String more = closeLog.admit();
            if (more != null) {
                log.info("closing connection from {}: no WELCOME within handshake timeout {} ms{}", peer(),
                        limits.handshakeTimeout().toMillis(), more);
            }
            closeWithError(ErrorCode.HANDSHAKE_TIMEOUT, 0, "handshake not completed within "
                    + limits.handshakeTimeout().toMillis() + " ms", true);
        }
    }

    private void heartbeat() {
        if (state != State.OPEN) {
            return;
        }
        long now = System.nanoTime();
        if (!channel.config().isAutoRead()) {
            // We stopped reading (backpressure): silence from the peer is ours, not theirs.
            lastReadNanos = now;
        }
        if (now - lastReadNanos > limits.idleTimeout().toNanos()) {
            log.info("closing connection from {} ({}): nothing received for {} ms", peer(), clientName,
                    TimeUnit.NANOSECONDS.toMillis(now - lastReadNanos));
            closeWithError(ErrorCode.IDLE_TIMEOUT, 0, "nothing received within "
                    + limits.idleTimeout().toMillis() + " ms", true);
            return;
        }
        if (now - lastWriteNanos >= limits.pingInterval().toNanos()) {
            writeHeaderOnly(FrameType.PING, 0, ++pingId);
            outbox.flushAll();
        }
    }

    // ---- publish ------------------------------------------------------------------------------------

    private void onPub(ByteBuf buf, int index, int frameBytes, int flags, int id) {
        int end = index + frameBytes;
        int p = index + Frame.BODY_OFFSET;
        int subjectBytes = ByteBufs.strBytes(buf, p, end, "subject");
        int subjectOffset = p + 2;
        p = subjectOffset + subjectBytes;
        int replyOffset = 0;
        int replyBytes = -1;
        if ((flags & Flags.REPLY) != 0) {
            replyBytes = ByteBufs.strBytes(buf, p, end, "reply");
            replyOffset = p + 2;
            p = replyOffset + replyBytes;
        }
        if ((flags & Flags.HEADERS) != 0) {
            p = skipHeaders(buf, p, end);
        }
        // Header and length errors above close the connection; subject errors below do not.
        if (subjectBytes > limits.maxSubjectBytes()) {
            throw new ProtocolException(ErrorCode.BAD_SUBJECT, "subject " + subjectBytes + " bytes > max "
                    + limits.maxSubjectBytes());
        }
        if (replyBytes >= 0) {
            checkSubject(buf, replyOffset, replyBytes, "reply ");
        }
        int hash = RouteCache.hash(buf, subjectOffset, subjectBytes);
        SubjectMatch match = routeCache.lookup(buf, subjectOffset, subjectBytes, hash);
        if (match == null) {
            byte[] subject = new byte[subjectBytes];
            buf.getBytes(subjectOffset, subject);
            Subjects.checkSubject(ByteBuffer.wrap(subject), 0, subjectBytes, limits.maxSubjectBytes(),
                    limits.maxSubjectTokens());
            match = routeCache.matchAndPut(subject, hash);
        }
        access.checkPublish(buf, subjectOffset, subjectBytes);
        outbox.msgsIn++;
        if (!match.isEmpty()) {
            route(match, buf, index, frameBytes, flags);
        } else if (replyBytes >= 0) {
            noResponders(buf, replyOffset, replyBytes);
        }
        QueueService queueService = sessions.queueService();
        if (queueService != null && queueService.hasBindings()) {
            queueService.publishBound(buf, index, frameBytes, limits.maxSubjectBytes(), limits.maxHeaders());
        }
        if ((flags & Flags.ACK) != 0) {
            writeHeaderOnly(FrameType.OK, 0, id);
        }
    }

    private void route(SubjectMatch match, ByteBuf buf, int index, int frameBytes, int flags) {
        for (int i = 0, n = match.plainCount(); i < n; i++) {
            deliverTo((Subscription) match.plain(i), buf, index, frameBytes, flags);
        }
        for (int g = 0, n = match.groupCount(); g < n; g++) {
            deliverTo((Subscription) match.pickMember(g), buf, index, frameBytes, flags);
        }
    }

    private void deliverTo(Subscription sub, ByteBuf buf, int index, int frameBytes, int flags) {
        Session target = sub.session;
        if (target.loop == loop) {
            target.deliver(sub, buf, index, frameBytes, flags);
        } else {
            outbox.remote(sub, buf.retainedSlice(index, frameBytes), flags);
        }
    }

    /** rule 8: a request nobody can answer gets a NO_RESPONDERS MSG on its reply subject. */
    private void noResponders(ByteBuf buf, int replyOffset, int replyBytes) {
        byte[] reply = new byte[replyBytes];
        buf.getBytes(replyOffset, reply);
        SubjectMatch match = sessions.router().match(reply);
        if (match.isEmpty()) {
            return;
        }
        int frameBytes = Frame.BODY_OFFSET + 2 + replyBytes;
        ByteBuf frame = ctx.alloc().heapBuffer(frameBytes, frameBytes);
        try {
            frame.writeInt(frameBytes - Frame.PREFIX_BYTES).writeByte(FrameType.MSG.code())
                    .writeByte(Flags.NO_RESPONDERS).writeShort(0).writeInt(0)
                    .writeShort(replyBytes).writeBytes(reply);
            route(match, frame, 0, frameBytes, Flags.NO_RESPONDERS);
        } finally {
            frame.release();
        }
    }

    private void checkSubject(ByteBuf buf, int offset, int length, String what) {
        if (length > limits.maxSubjectBytes()) {
            throw new ProtocolException(ErrorCode.BAD_SUBJECT, what + "subject " + length + " bytes > max "
                    + limits.maxSubjectBytes());
        }
        ByteBuffer nio = buf.nioBufferCount() == 1 ? buf.internalNioBuffer(offset, length) : buf.nioBuffer(offset, length);
        Subjects.checkSubject(nio, nio.position(), length, limits.maxSubjectBytes(), limits.maxSubjectTokens());
    }

    private int skipHeaders(ByteBuf buf, int p, int end) {
        if (p + 2 > end) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "header count needs 2 bytes");
        }
        int count = buf.getUnsignedShort(p);
        int first = p + 2;
        p = first;
        for (int i = 0; i < count; i++) {
            p += 2 + ByteBufs.strBytes(buf, p, end, "header key");
            p += 2 + ByteBufs.strBytes(buf, p, end, "header value");
        }
        if (count > limits.maxHeaders()) {
            throw new ProtocolException(ErrorCode.LIMIT_EXCEEDED, "header count " + count + " > max "
                    + limits.maxHeaders());
        }
        requireDistinctKeys(buf, first, count);
        return p;
    }

    /** protocol.md 6.10: a repeated header key is malformed. Quadratic, but count <= maxHeaders. */
    private static void requireDistinctKeys(ByteBuf buf, int first, int count) {
        int key = first;
        for (int i = 0; i < count; i++) {
            int keyBytes = buf.getUnsignedShort(key);
            int other = first;
            for (int j = 0; j < i; j++) {
                int otherBytes = buf.getUnsignedShort(other);
                if (otherBytes == keyBytes && ByteBufUtil.equals(buf, key + 2, buf, other + 2, keyBytes)) {
                    throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "header key '"
                            + buf.toString(key + 2, keyBytes, StandardCharsets.UTF_8) + "' repeated");
                }
                other = skipEntry(buf, other);
            }
            key = skipEntry(buf, key);
        }
    }

    private static int skipEntry(ByteBuf buf, int p) {
        p += 2 + buf.getUnsignedShort(p);
        return p + 2 + buf.getUnsignedShort(p);
    }

    // ---- delivery (runs on this session's loop) -------------------------------------------------------

    /** Delivers the PUB or MSG frame at index to sub as a MSG, applying the slow-consumer policy. */
    void deliver(Subscription sub, ByteBuf buf, int index, int frameBytes, int flags) {
        assert loop.inEventLoop();
        if (sub.removed || state == State.CLOSING) {
            return;
        }
        if (sub.maxMessages > 0 && sub.delivered >= sub.maxMessages) {
            return;
        }
        sub.delivered++;
        if (frameBytes - Frame.PREFIX_BYTES > maxFrameBytes) {
            // Larger than this client agreed to receive: it learns through DROPPED.
            dropOne(sub);
        } else if (sub.hasWaiting()) {
            enqueue(sub, buf, index, frameBytes, flags);
        } else if (pendingBytes() + frameBytes + (sub.dropped > 0 ? 20 : 0) > limits.maxPendingBytes()) {
            if (sub.policy == SlowConsumerPolicy.DISCONNECT) {
                slowConsumer(sub);
                return;
            }
            enqueue(sub, buf, index, frameBytes, flags);
        } else {
            if (sub.dropped > 0) {
                writeDropped(sub);
            }
            writeMsg(sub.sid, buf, index, frameBytes, flags);
        }
        if (!channel.isWritable()) {
            throttle(outbox.publisher);
        }
        if (sub.maxMessages > 0 && sub.delivered >= sub.maxMessages && !sub.hasWaiting()) {
            removeSubscription(sub);
        }
    }

    /**
     * Flow control (rule 11): this connection's output is above the high water mark, so the publisher
     * being read on this loop is paused until it drains, instead of this backlog growing to
     * max_pending_bytes and the slow-consumer policy dropping. Memory stays bounded: the publisher's
     * current read burst still completes (and max_pending_bytes still applies to it). A throttle that
     * sees no progress for {@link #THROTTLE_STALL_MILLIS} expires (a subscriber that never reads must
     * not stop its publishers forever, and two connections publishing to each other must not
     * deadlock); then the slow-consumer policy applies until this output drains. Cross-loop deliveries
     * and a connection's messages to itself are not throttled (its own backlog already pauses it).
     */
    private void throttle(Session publisher) {
        if (publisher == null || publisher == this || throttleExpired || publisher.loop != loop
                || publisher.state == State.CLOSING) {
            return;
        }
        if (throttledPublishers == null) {
            throttledPublishers = new ArrayList<>(2);
        } else if (throttledPublishers.contains(publisher)) {
            return;
        }
        throttledPublishers.add(publisher);
        publisher.throttles++;
        counters.publisherThrottles.increment();
        if (throttleTimer == null) {
            throttlePendingBytes = pendingBytes();
            throttleTimer = loop.schedule(this::checkThrottleProgress, THROTTLE_STALL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void checkThrottleProgress() {
        throttleTimer = null;
        if (throttledPublishers == null || throttledPublishers.isEmpty()) {
            return;
        }
        long pending = pendingBytes();
        if (pending < throttlePendingBytes && state != State.CLOSING) {
            throttlePendingBytes = pending;
            throttleTimer = loop.schedule(this::checkThrottleProgress, THROTTLE_STALL_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        log.debug("connection {} ({}): no output progress for {} ms with {} bytes pending; resuming its publishers",
                peer(), clientName, THROTTLE_STALL_MILLIS, pending);
        throttleExpired = true;
        releaseThrottledPublishers();
    }

    private void releaseThrottledPublishers() {
        if (throttleTimer != null) {
            throttleTimer.cancel(false);
            throttleTimer = null;
        }
        ArrayList<Session> paused = throttledPublishers;
        if (paused == null || paused.isEmpty()) {
            return;
        }
        throttledPublishers = null;
        for (Session p : paused) {
            p.throttles--;
            assert p.throttles >= 0 : p.throttles;
            p.resumeReadingIfDrained();
        }
    }

    private void writeMsg(int sid, ByteBuf buf, int index, int frameBytes, int flags) {
        int msgFlags = flags & MSG_FLAGS;
        if (frameBytes < COPY_BELOW_BYTES) {
            // One copy of the whole frame, then the header fields that differ (type, flags, id); the
            // reserved bytes are zero in the PUB already (checked in handleFrame).
            ByteBuf b = batch(frameBytes);
            int at = b.writerIndex();
            b.writeBytes(buf, index, frameBytes);
            b.setShort(at + Frame.TYPE_OFFSET, (FrameType.MSG.code() << 8) | msgFlags);
            b.setInt(at + Frame.ID_OFFSET, sid);
        } else {
            ByteBuf b = batch(Frame.BODY_OFFSET);
            b.writeInt(buf.getInt(index)).writeByte(FrameType.MSG.code()).writeByte(msgFlags).writeShort(0).writeInt(sid);
            writeBatch();
            ctx.write(buf.retainedSlice(index + Frame.BODY_OFFSET, frameBytes - Frame.BODY_OFFSET), ctx.voidPromise());
        }
        outbox.msgsOut++;
        outbox.bytesOut += frameBytes;
        markDirty();
    }

    private void writeDropped(Subscription sub) {
        ByteBuf b = batch(Frame.BODY_OFFSET + 8);
        b.writeInt(Frame.HEADER_BYTES + 8).writeByte(FrameType.DROPPED.code()).writeByte(0).writeShort(0)
                .writeInt(sub.sid).writeLong(sub.dropped);
        sub.dropped = 0;
        markDirty();
    }

    private void dropOne(Subscription sub) {
        sub.dropped++;
        counters.slowConsumerDrops.increment();
        listSlow(sub);
    }

    /** DROP_OLDEST: keep a copy of the frame (as a MSG for this sid) in the subscription's bounded queue. */
    private void enqueue(Subscription sub, ByteBuf buf, int index, int frameBytes, int flags) {
        if (sub.waiting == null) {
            sub.waiting = new ArrayDeque<>();
        }
        while (!sub.waiting.isEmpty()
                && (sub.waiting.size() >= sub.maxPendingMessages || waitingBytes + frameBytes > limits.maxPendingBytes())) {
            ByteBuf oldest = sub.waiting.poll();
            waitingBytes -= oldest.capacity();
            oldest.release();
            dropOne(sub);
        }
        if (waitingBytes + frameBytes > limits.maxPendingBytes()) {
            // Other subscriptions' waiting messages fill this connection's budget: drop the new one.
            dropOne(sub);
            return;
        }
        ByteBuf copy = ctx.alloc().directBuffer(frameBytes, frameBytes);
        copy.writeInt(buf.getInt(index)).writeByte(FrameType.MSG.code()).writeByte(flags & MSG_FLAGS).writeShort(0)
                .writeInt(sub.sid).writeBytes(buf, index + Frame.BODY_OFFSET, frameBytes - Frame.BODY_OFFSET);
        sub.waiting.add(copy);
        waitingBytes += copy.capacity();
        Counters.max(counters.waitingBytesHighWater, waitingBytes);
        listSlow(sub);
        armDrain();
    }

    private void listSlow(Subscription sub) {
        if (!sub.listedSlow) {
            sub.listedSlow = true;
            slow.add(sub);
        }
        armDrain();
    }

    /** Writes waiting messages (each subscription's DROPPED first) while the socket budget allows. */
    private void drainWaiting() {
        while (!slow.isEmpty() && state != State.CLOSING) {
            Subscription sub = slow.peek();
            if (!sub.removed) {
                while (true) {
                    ByteBuf next = sub.waiting == null ? null : sub.waiting.peek();
                    int need = (next == null ? 0 : next.readableBytes()) + (sub.dropped > 0 ? 20 : 0);
                    if (need == 0) {
                        break;
                    }
                    if (pendingBytes() + need > limits.maxPendingBytes()) {
                        armDrain();
                        return;
                    }
                    if (sub.dropped > 0) {
                        writeDropped(sub);
                    }
                    if (next != null) {
                        sub.waiting.poll();
                        waitingBytes -= next.capacity();
                        writeBatch();
                        outbox.msgsOut++;
                        outbox.bytesOut += next.readableBytes();
                        ctx.write(next, ctx.voidPromise());
                        markDirty();
                    }
                }
                if (sub.maxMessages > 0 && sub.delivered >= sub.maxMessages) {
                    removeSubscription(sub);
                }
            }
            slow.poll();
            sub.listedSlow = false;
        }
    }

    /**
     * Makes sure drainWaiting runs again once the socket makes progress: on the writability change
     * when the channel is unwritable, else when everything written so far has reached the socket.
     */
    private void armDrain() {
        if (drainArmed || !channel.isWritable()) {
            return;
        }
        drainArmed = true;
        ctx.write(ctx.alloc().buffer(0, 0)).addListener((ChannelFutureListener) f -> {
            drainArmed = false;
            if (f.isSuccess() && state != State.CLOSING && !slow.isEmpty()) {
                drainWaiting();
                outbox.flushAll();
            }
        });
        markDirty();
    }

    private void slowConsumer(Subscription sub) {
        counters.slowConsumerDisconnects.increment();
        log.warn("closing connection from {} ({}): slow consumer on {}, {} bytes pending > max {}", peer(), clientName,
                sub, pendingBytes(), limits.maxPendingBytes());
        closeWithError(ErrorCode.SLOW_CONSUMER, sub.sid, "slow consumer: " + pendingBytes()
                + " bytes pending > max " + limits.maxPendingBytes(), true);
    }

    /** Bytes queued for this socket and not yet written, including the unwritten batch buffer. */
    long pendingBytes() {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return (out == null ? 0 : out.totalPendingWriteBytes()) + (batch == null ? 0 : batch.readableBytes());
    }

    // ---- subscriptions ------------------------------------------------------------------------------

    private void onSub(Frame.Sub sub) {
        int sid = sub.id();
        if (subscriptions.containsKey(sid)) {
            throw new ProtocolException(ErrorCode.DUPLICATE_SUBSCRIPTION, "sid " + sid + " already in use");
        }
        if (subscriptions.size() >= limits.maxSubscriptions()) {
            log.debug("connection {} at max subscriptions {}", peer(), limits.maxSubscriptions());
            throw new ProtocolException(ErrorCode.TOO_MANY_SUBSCRIPTIONS, "max " + limits.maxSubscriptions()
                    + " subscriptions per connection");
        }
        Subjects.checkPattern(sub.subject(), limits.maxSubjectBytes(), limits.maxSubjectTokens());
        if (sub.queue() != null) {
            try {
                Subjects.checkSubject(sub.queue(), limits.maxSubjectBytes(), 1);
            } catch (ProtocolException e) {
                throw new ProtocolException(ErrorCode.BAD_SUBJECT, "queue group: " + e.getMessage());
            }
        }
        access.checkSubscribe(sub.subject());
        int maxPending = sub.maxPendingMessages() == 0 ? limits.maxPendingMessages()
                : Math.min(sub.maxPendingMessages(), limits.maxPendingMessages());
        Subscription s = new Subscription(this, sid, sub.subject(), sub.queue(), sub.policy(), maxPending);
        subscriptions.put(sid, s);
        sessions.router().add(s);
        counters.subscriptions.incrementAndGet();
        if (sub.ack()) {
            writeHeaderOnly(FrameType.OK, 0, sid);
        }
    }

    private void onUnsub(Frame.Unsub unsub) {
        Subscription s = subscriptions.get(unsub.id());
        if (s == null) {
            throw new ProtocolException(ErrorCode.UNKNOWN_SUBSCRIPTION, "no subscription with sid " + unsub.id());
        }
        if (unsub.afterMessages() == 0 || s.delivered >= unsub.afterMessages()) {
            removeSubscription(s);
        } else {
            s.maxMessages = unsub.afterMessages();
        }
        if (unsub.ack()) {
            writeHeaderOnly(FrameType.OK, 0, unsub.id());
        }
    }

    private void removeSubscription(Subscription s) {
        if (s.removed) {
            return;
        }
        s.removed = true;
        subscriptions.remove(s.sid);
        sessions.router().remove(s);
        counters.subscriptions.decrementAndGet();
        if (s.waiting != null) {
            for (ByteBuf b : s.waiting) {
                waitingBytes -= b.capacity();
                b.release();
            }
            s.waiting = null;
        }
    }

    private void removeAllSubscriptions() {
        if (subscriptions.isEmpty()) {
            return;
        }
        for (Subscription s : new ArrayList<>(subscriptions.values())) {
            removeSubscription(s);
        }
        slow.clear();
    }

    // ---- output -------------------------------------------------------------------------------------

    /** The batch buffer with room for n more bytes (writing out a full one first). */
    private ByteBuf batch(int n) {
        ByteBuf b = batch;
        if (b != null && b.maxWritableBytes() >= n) {
            return b;
        }
        if (b != null) {
            writeBatch();
        }
        int max = Math.max(BATCH_MAX_BYTES, n);
        batch = ctx.alloc().directBuffer(Math.min(max, Math.max(BATCH_INITIAL_BYTES, n)), max);
        return batch;
    }

    private void writeBatch() {
        ByteBuf b = batch;
        if (b != null) {
            batch = null;
            if (b.isReadable()) {
                ctx.write(b, ctx.voidPromise());
            } else {
                b.release();
            }
        }
    }

    private void writeHeaderOnly(FrameType type, int flags, int id) {
        batch(Frame.BODY_OFFSET).writeInt(Frame.HEADER_BYTES).writeByte(type.code()).writeByte(flags).writeShort(0)
                .writeInt(id);
        markDirty();
    }

    private void writeFrame(Frame frame) {
        ByteBuffer encoded = Frames.encode(frame);
        batch(encoded.remaining()).writeBytes(encoded);
        markDirty();
    }

    // ---- durable queues ------------------------------------------------------------------------------

    private QueueSession queueSession() {
        QueueService service = sessions.queueService();
        if (service == null) {
            throw new ProtocolException(ErrorCode.QUEUE_NOT_FOUND, "this server has no queue engine");
        }
        if (queues == null) {
            queues = service.newSession(new QueueOutput());
        }
        return queues;
    }

    private void closeQueues() {
        if (queues != null) {
            queues.close();
        }
    }

    /** The queue session's view of this connection (all on this loop, except loop() and isWritable()). */
    private final class QueueOutput implements QueueChannel {
        @Override
        public EventLoop loop() {
            return loop;
        }

        @Override
        public boolean isWritable() {
            return channel.isWritable();
        }

        @Override
        public boolean isOpen() {
            return state != State.CLOSING && channel.isActive();
        }

        @Override
        public ByteBuf buffer(int frameBytes) {
            return batch(frameBytes);
        }

        @Override
        public void written() {
            markDirty();
        }

        @Override
        public void error(int id, ErrorCode code, String text) {
            sendError(id, code, text);
        }

        @Override
        public void flush() {
            outbox.flushAll();
        }

        @Override
        public int maxFrameBytes() {
            return maxFrameBytes;
        }

        @Override
        public int maxConsumers() {
            return limits.maxSubscriptions();
        }

        @Override
        public int maxHeaders() {
            return limits.maxHeaders();
        }

        @Override
        public String describe() {
            return peer() + " (" + clientName + ")";
        }
    }

    private void sendError(int id, ErrorCode code, String text) {
        counters.error(code);
        log.debug("error to {}: {} {} (id {})", peer(), code, text, id);
        writeFrame(new Frame.Error(id, code.code(), false, clip(text)));
    }

    private void markDirty() {
        if (!dirty) {
            dirty = true;
            outbox.markDirty(this);
        }
    }

    /** Called by the outbox once per burst. */
    void flushNow() {
        dirty = false;
        if (!channel.isActive()) {
            if (batch != null) {
                batch.release();
                batch = null;
            }
            return;
        }
        Counters.max(counters.pendingBytesHighWater, pendingBytes());
        writeBatch();
        ctx.flush();
        lastWriteNanos = System.nanoTime();
    }

    // ---- errors and closing -------------------------------------------------------------------------

    private void protocolError(ProtocolException e) {
        if (state == State.CLOSING) {
            return;
        }
        String more = closeLog.admit();
        if (more != null) {
            log.info("closing connection from {} ({}): {} {}{}", peer(), clientName, e.code(), e.getMessage(), more);
        }
        closeWithError(e.code(), 0, e.getMessage(), true);
    }

    /** Sends ERROR with the CLOSING flag, then closes once it is written (or after a linger). */
    private void closeWithError(ErrorCode code, int id, String text, boolean count) {
        if (state == State.CLOSING) {
            return;
        }
        state = State.CLOSING;
        if (count) {
            counters.error(code);
        }
        cancelTimers();
        removeAllSubscriptions();
        closeQueues();
        channel.config().setAutoRead(false);
        writeClosingError(code, id, text);
    }

    /** Writes ERROR with the CLOSING flag and closes once it is written (or after a linger). */
    private void writeClosingError(ErrorCode code, int id, String text) {
        if (!channel.isActive()) {
            return;
        }
        writeBatch();
        ByteBuffer encoded = Frames.encode(new Frame.Error(id, code.code(), true, clip(text)));
        ctx.writeAndFlush(ctx.alloc().buffer(encoded.remaining()).writeBytes(encoded))
                .addListener(ChannelFutureListener.CLOSE);
        loop.schedule(() -> {
            channel.close();
        }, ERROR_LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** rule 12: tell the client the server is going away; keep serving it until it leaves or time runs out. */
    void goAway() {
        if (state == State.CLOSING || goAwaySent || !channel.isActive()) {
            return;
        }
        if (state != State.OPEN) {
            closeWithError(ErrorCode.SERVER_SHUTDOWN, 0, "server shutting down", true);
            return;
        }
        goAwaySent = true;
        writeFrame(new Frame.GoAway(ErrorCode.SERVER_SHUTDOWN.code(), sessions.drainMillis(), "server shutting down"));
        outbox.flushAll();
    }

    /** End of the drain period: flush what is queued and close. */
    void closeAfterDrain() {
        state = State.CLOSING;
        cancelTimers();
        writeBatch();
        ctx.writeAndFlush(ctx.alloc().buffer(0, 0)).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancelTimers() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
            handshakeTimer = null;
        }
        if (heartbeat != null) {
            heartbeat.cancel(false);
            heartbeat = null;
        }
    }

    private SocketAddress peer() {
        return channel.remoteAddress();
    }

    private static String clip(String text) {
        return text.length() <= 1024 ? text : text.substring(0, 1024);
    }
}
