package tern.client;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import tern.protocol.Codec;
import tern.protocol.ErrorCode;
import tern.protocol.Flags;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.MessageLayout;
import tern.protocol.ProtocolException;
import tern.protocol.Subjects;
import tern.protocol.auth.AuthMechanism;
import tern.protocol.auth.ScramClient;
import tern.protocol.auth.ScramException;

/**
 * The {@link Connection} implementation. Threads: {@code tern-reader-N} (reads and parses frames,
 * answers PINGs, completes flushes and blocking requests, reconnects), {@code tern-writer-N} (writes
 * the {@link WriteBuffer}, sends heartbeats, detects idle connections), {@code tern-dispatch-N}
 * (push handlers, async request completions, listener calls, in arrival order).
 */
final class TernConnection implements Connection {
    static final String CLIENT_VERSION = "0.1.0";
    /** Subject tokens are the server's to limit (WELCOME does not carry its maximum); the format allows 1024. */
    private static final int MAX_SUBJECT_TOKENS = 1024;
    /** Largest frame accepted before WELCOME (WELCOME, ERROR, CHALLENGE are small). */
    private static final int HANDSHAKE_MAX_FRAME_BYTES = 64 << 10;
    /** Most cached subject encodings per connection; beyond it subjects are encoded per publish. */
    private static final int SUBJECT_CACHE_ENTRIES = 4096;
    /** Room kept in the write buffer for control frames. */
    private static final int CONTROL_RESERVE_BYTES = 1024;
    private static final AtomicInteger CONNECTION_IDS = new AtomicInteger();

    private final ConnectOptions options;
    private final ConnectionListener listener;
    private final int connectionId = CONNECTION_IDS.incrementAndGet();
    private final WriteBuffer out;
    private final InboundBuffer in;
    private final DeliveryRing ring;
    /** Durable queues: sends, confirms, consumers (docs/protocol.md section 16). */
    private final TernQueues queues;
    private final MessageLayout layout = new MessageLayout();
    private final ConcurrentHashMap<Integer, TernSubscription> subs = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, CompletableFuture<Void>> pongWaiters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, CompletableFuture<Void>> ackWaiters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, PendingRequest> pending = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, byte[]> subjectCache = new ConcurrentHashMap<>();
    private final AtomicInteger nextSid = new AtomicInteger(1);
    private final AtomicInteger nextPingId = new AtomicInteger(1);
    private final Inbox inbox = new Inbox();
    private final Object inboxLock = new Object();
    private final Object closeLock = new Object();
    /** Guards sweep and sweepAtNanos: the one timer task enforcing request deadlines. */
    private final Object sweepLock = new Object();
    private ScheduledFuture<?> sweep;
    private long sweepAtNanos;
    private volatile TernSubscription inboxSub;
    private volatile ConnectionStatus status = ConnectionStatus.CONNECTING;
    private volatile ServerInfo info;
    private volatile SocketChannel channel;
    private volatile long lastInboundNanos = System.nanoTime();
    private volatile boolean readerBlocked;
    private volatile boolean closed;
    /** Set by the reader when a closing ERROR arrives: decides whether to reconnect. */
    private volatile ServerException closingError;
    private Thread readerThread;
    private Thread writerThread;
    private Thread dispatchThread;
    // Reader thread only.
    private int lastSid = -1;
    private TernSubscription lastSub;

    private TernConnection(ConnectOptions options) {
        this.options = options;
        this.listener = options.listener();
        int maxFrame = options.maxFrameBytes() == 0 ? Limits.ABSOLUTE_MAX_FRAME_BYTES : options.maxFrameBytes();
        this.in = new InboundBuffer(options.readBufferBytes(), maxFrame);
        this.out = new WriteBuffer(options.writeBufferBytes(), CONTROL_RESERVE_BYTES, TernConnection::closeQuietly);
        this.ring = new DeliveryRing(options.dispatchQueueMessages());
        this.queues = new TernQueues(this, out, ring, options);
    }

    static TernConnection open(ConnectOptions options) {
        TernConnection c = new TernConnection(options);
        SocketChannel ch = c.connectAndHandshake();
        c.channel = ch;
        c.lastInboundNanos = System.nanoTime();
        c.out.attach(ch, null);
        c.status = ConnectionStatus.CONNECTED;
        c.event(ConnectionEvent.CONNECTED);
        c.startThreads();
        return c;
    }

    private void startThreads() {
        readerThread = new Thread(this::runReader, "tern-reader-" + connectionId);
        writerThread = new Thread(this::runWriter, "tern-writer-" + connectionId);
        dispatchThread = new Thread(() -> ring.consume(this::dispatch), "tern-dispatch-" + connectionId);
        for (Thread t : List.of(readerThread, writerThread, dispatchThread)) {
            t.setDaemon(true);
            t.start();
        }
    }

    // ---- handshake ------------------------------------------------------------------------------------

    private SocketChannel connectAndHandshake() {
        long timeoutNanos = options.connectTimeout().toNanos();
        SocketChannel ch;
        try {
            ch = SocketChannel.open();
        } catch (IOException e) {
            throw new TernException("cannot open a socket: " + e.getMessage(), e);
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = ClientTimer.schedule(() -> {
            timedOut.set(true);
            closeQuietly(ch);
        }, timeoutNanos);
        String where = options.host() + ":" + options.port();
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.socket().connect(new InetSocketAddress(options.host(), options.port()),
                    (int) Math.max(1, Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis())));
            SocketChannel conn = options.tls() == null ? ch
                    : TlsSocketChannel.handshake(ch, options.host(), options.port(), options.tls());
            Credentials credentials = options.credentials();
            ScramClient scram = null;
            String mechanism = AuthMechanism.NONE;
            byte[] authData = new byte[0];
            if (credentials != null) {
                mechanism = credentials.mechanism();
                if (mechanism.equals(AuthMechanism.SCRAM_SHA_256)) {
                    scram = new ScramClient(credentials.user(), credentials.secret());
                    authData = scram.clientFirst();
                } else {
                    authData = credentials.secret().getBytes(StandardCharsets.UTF_8);
                }
            }
            Frame.Hello hello = new Frame.Hello(1, Frame.VERSION, options.maxFrameBytes(), 0, options.name(),
                    CLIENT_VERSION, mechanism, authData);
            ByteBuffer greeting = ByteBuffer.allocate(Frame.PREFACE.length + Frames.encodedBytes(hello));
            greeting.put(Frame.PREFACE);
            Frames.encode(hello, greeting);
            greeting.flip();
            while (greeting.hasRemaining()) {
                conn.write(greeting);
            }
            in.reset();
            in.setMaxFrameBytes(HANDSHAKE_MAX_FRAME_BYTES);
            Frame f = readHandshakeFrame(conn);
            if (f instanceof Frame.Challenge c) {
                if (scram == null) {
                    throw new TernException("server " + where + " sent CHALLENGE, but this client named "
                            + (mechanism.isEmpty() ? "no mechanism" : mechanism) + " (protocol.md 5.3)");
                }
                byte[] clientFinal;
                try {
                    clientFinal = scram.clientFinal(c.data());
                } catch (ScramException e) {
                    throw new ServerIdentityException("server " + where + " sent an unacceptable SCRAM challenge: "
                            + e.getMessage() + "; connection refused", e);
                }
                ByteBuffer auth = Frames.encode(new Frame.Auth(clientFinal));
                while (auth.hasRemaining()) {
                    conn.write(auth);
                }
                f = readHandshakeFrame(conn);
            }
            if (f instanceof Frame.Welcome w && scram != null) {
                try {
                    scram.verifyServerFinal(w.authData());
                } catch (ScramException e) {
                    throw new ServerIdentityException("server " + where + " did not prove it knows the credential of"
                            + " user '" + credentials.user() + "' (" + e.getMessage() + "); connection refused", e);
                }
            }
            if (f instanceof Frame.Welcome w) {
                int maxFrame = options.maxFrameBytes() == 0 ? w.maxFrameBytes()
                        : Math.min(options.maxFrameBytes(), w.maxFrameBytes());
                if (maxFrame < Frame.HEADER_BYTES + 64) {
                    throw new TernException("server " + where + " offered maxFrameBytes " + w.maxFrameBytes());
                }
                info = new ServerInfo(w.serverId(), w.serverVersion(), w.version(), maxFrame, w.maxSubjectBytes(),
                        w.maxHeaders(), w.maxSubscriptions(), Duration.ofMillis(Math.max(1, w.pingIntervalMillis())),
                        Duration.ofMillis(Math.max(2, w.idleTimeoutMillis())), w.features());
                in.setMaxFrameBytes(maxFrame);
                subjectCache.clear();
                watchdog.cancel(false);
                if (timedOut.get()) {
                    throw new IOException("timed out");
                }
                return conn;
            }
            if (f instanceof Frame.Error e) {
                throw ServerException.of(e.code(), e.text());
            }
            throw new TernException("server " + where + " sent " + f.type() + " instead of WELCOME");
        } catch (IOException | ProtocolException | TernException e) {
            watchdog.cancel(false);
            closeQuietly(ch);
            if (e instanceof TernException te) {
                throw te;
            }
            if (timedOut.get()) {
                throw new TernException("connect to " + where + " timed out after " + options.connectTimeout());
            }
            if (options.tls() != null && (e instanceof javax.net.ssl.SSLException
                    || e instanceof java.net.SocketException && !(e instanceof java.net.ConnectException))) {
                throw new TernException("connect to " + where + " failed: TLS: "
                        + TlsSocketChannel.explain(e, options.host(), options.tls()), e);
            }
            throw new TernException("connect to " + where + " failed: " + e, e);
        } catch (RuntimeException e) {
            watchdog.cancel(false);
            closeQuietly(ch);
            throw e;
        }
    }

    /** One whole frame during the handshake (bounded by HANDSHAKE_MAX_FRAME_BYTES and the watchdog). */
    private Frame readHandshakeFrame(SocketChannel ch) throws IOException {
        Frame[] first = new Frame[1];
        while (first[0] == null) {
            if (in.drain((b, off, n) -> first[0] = Frames.decode(b.duplicate().position(off).limit(off + n)), 1) == 0
                    && ch.read(in.readTarget()) < 0) {
                throw new EOFException("server closed the connection during the handshake");
            }
        }
        return first[0];
    }

    // ---- reader -----------------------------------------------------------------------------------------

    private void runReader() {
        while (!closed) {
            Throwable cause = null;
            SocketChannel ch = channel;
            try {
                readLoop(ch);
            } catch (GoAwaySignal g) {
                cause = g;
            } catch (IOException | ProtocolException | TernException e) {
                cause = e;
            } catch (RuntimeException | Error e) {
                cause = e;
                event(e);
            }
            if (closed) {
                break;
            }
            if (!reconnect(ch, cause)) {
                break;
            }
        }
    }

    private void readLoop(SocketChannel ch) throws IOException {
        InboundBuffer.FrameSink sink = this::onFrame;
        while (true) {
            in.drain(sink, Integer.MAX_VALUE);
            ring.signal(); // once per read: messages were queued with offerLazily
            if (ch.read(in.readTarget()) < 0) {
                throw new EOFException("server closed the connection");
            }
            lastInboundNanos = System.nanoTime();
        }
    }

    private void onFrame(ByteBuffer b, int off, int frameBytes) {
        int code = b.get(off + Frame.TYPE_OFFSET) & 0xFF;
        int id = b.getInt(off + Frame.ID_OFFSET);
        if (code == FrameType.MSG.code()) {
            onMsg(b, off, frameBytes, id);
            return;
        }
        if (code >= 0x20 && code <= 0x2F && FrameType.of(code) != null && FrameType.of(code).sentByServer()) {
            queues.onFrame(b, off, frameBytes, code, id);
            return;
        }
        Frame f = Frames.decode(b.duplicate().position(off).limit(off + frameBytes));
        switch (f.type()) {
            case PING -> out.tryPutControl(new Frame.Pong(id));
            case PONG -> {
                CompletableFuture<Void> w = pongWaiters.remove(id);
                if (w != null) {
                    w.complete(null);
                }
            }
            case OK -> {
                CompletableFuture<Void> w = ackWaiters.remove(id);
                if (w != null) {
                    w.complete(null);
                } else {
                    queues.onOk(id);
                }
            }
            case ERROR -> onError((Frame.Error) f);
            case DROPPED -> {
                TernSubscription s = subs.get(id);
                if (s != null) {
                    s.addDropped(((Frame.Dropped) f).count());
                }
            }
            case GOAWAY -> throw new GoAwaySignal((Frame.GoAway) f);
            default -> throw new ProtocolException(ErrorCode.UNEXPECTED_FRAME, f.type() + " after WELCOME");
        }
    }

    private void onError(Frame.Error e) {
        ServerException ex = ServerException.of(e.code(), e.text());
        if (e.closing()) {
            closingError = ex;
        }
        if (e.id() != 0 && queues.onError(e.id(), ex)) {
            return;
        }
        CompletableFuture<Void> w = e.id() != 0 ? ackWaiters.remove(e.id()) : null;
        if (w != null) {
            w.completeExceptionally(ex);
        } else {
            event(ex);
        }
    }

    private void onMsg(ByteBuffer b, int off, int frameBytes, int sid) {
        int flags = b.get(off + Frame.FLAGS_OFFSET) & 0xFF;
        if ((flags & ~Flags.allowed(FrameType.MSG)) != 0 || b.getShort(off + Frame.RESERVED_OFFSET) != 0) {
            throw Codec.malformed("MSG flags 0x" + Integer.toHexString(flags) + " or reserved bytes invalid");
        }
        ServerInfo limits = info;
        MessageLayout m = layout.parse(b, off, frameBytes, limits.maxSubjectBytes(), limits.maxHeaders());
        TernSubscription s = sid == lastSid ? lastSub : subs.get(sid);
        if (s == null || !s.active) {
            return; // late delivery after unsubscribe
        }
        lastSid = sid;
        lastSub = s;
        if (s.inbox) {
            onReply(b, m, flags);
            return;
        }
        Message msg = toMessage(s, b, m, sid);
        long n = s.delivered + 1;
        s.delivered = n;
        if (s.handler == null) {
            offerPull(s, msg);
        } else {
            ring.offerLazily(s, msg);
        }
        long max = s.maxDeliver;
        if (max > 0 && n >= max) {
            endSubscription(s, false); // after the last message is queued: next() returns it before null
        }
    }

    private Message toMessage(TernSubscription s, ByteBuffer b, MessageLayout m, int sid) {
        String subject = s.subjectOf(b, m.subjectOffset(), m.subjectBytes());
        String reply = m.hasReply() ? Codec.utf8(b, m.replyOffset(), m.replyBytes()) : null;
        Map<String, String> headers = m.headersBytes() == 0 ? Map.of()
                : Collections.unmodifiableMap(Frames.decodeHeaders(b, m.headersOffset(), m.headersBytes()));
        int from = b.arrayOffset() + m.payloadOffset();
        byte[] payload = Arrays.copyOfRange(b.array(), from, from + m.payloadBytes());
        return new Message(subject, reply, headers, payload, sid);
    }

    private void offerPull(TernSubscription s, Message msg) {
        if (s.queue.offer(msg)) {
            return;
        }
        // Full: wait, so TCP backpressure lets the server apply the subscription's slow-consumer policy.
        readerBlocked = true;
        try {
            while (!s.queue.offer(msg, 50, TimeUnit.MILLISECONDS)) {
                if (closed || !s.active) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("reader interrupted");
        } finally {
            readerBlocked = false;
        }
    }

    private void onReply(ByteBuffer b, MessageLayout m, int flags) {
        long token = inbox.tokenOf(b, m.subjectOffset(), m.subjectBytes());
        PendingRequest p = token < 0 ? null : pending.remove(token);
        if (p == null) {
            return; // late or duplicate reply
        }
        Object result = (flags & Flags.NO_RESPONDERS) != 0 ? new NoRespondersException(p.subject)
                : toMessage(inboxSub, b, m, inboxSub.sid());
        if (p.async) {
            if (!ring.offer(p, result)) {
                p.complete(new ConnectionClosedException("connection closed"));
            }
        } else {
            p.complete(result);
        }
    }

    /** Thrown inside the reader when the server sends GOAWAY. */
    private static final class GoAwaySignal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Frame.GoAway goAway;

        GoAwaySignal(Frame.GoAway goAway) {
            super("server going away: code " + goAway.code() + ", " + goAway.text(), null, false, false);
            this.goAway = goAway;
        }
    }

    // ---- disconnect and reconnect -------------------------------------------------------------------------

    /** Handles a lost connection; true when a new one is ready, false when the connection is closed. */
    private boolean reconnect(SocketChannel old, Throwable cause) {
        if (cause instanceof GoAwaySignal g) {
            // Stop publishing, send what is buffered, then leave (protocol behaviour §12).
            long drainNanos = Math.min(TimeUnit.MILLISECONDS.toNanos(g.goAway.drainMillis()),
                    options.connectTimeout().toNanos());
            out.flushAndDetach(System.nanoTime() + drainNanos);
        }
        closeQuietly(old);
        out.detach();
        in.reset();
        lastSid = -1;
        lastSub = null;
        ServerException fatal = closingError;
        closingError = null;
        TernException lost = new ConnectionClosedException("disconnected" + (cause == null ? "" : ": " + cause.getMessage()));
        failAll(pongWaiters, lost);
        queues.onDisconnect(lost);
        // Subscriptions stay registered and are re-created on reconnect: their subscribe() succeeds.
        ackWaiters.forEach((id, w) -> w.complete(null));
        ackWaiters.clear();
        boolean retry = options.reconnect() && (fatal == null || reconnectAfter(fatal.code()));
        synchronized (closeLock) {
            if (closed) {
                return false;
            }
            status = retry ? ConnectionStatus.RECONNECTING : status;
        }
        event(ConnectionEvent.DISCONNECTED);
        if (!retry) {
            close();
            return false;
        }
        long waitNanos = options.reconnectWaitMin().toNanos();
        long maxWaitNanos = options.reconnectWaitMax().toNanos();
        for (int attempt = 0; !closed; attempt++) {
            if (options.maxReconnects() >= 0 && attempt >= options.maxReconnects()) {
                event(new TernException("gave up after " + attempt + " reconnect attempts"));
                close();
                return false;
            }
            long jittered = waitNanos / 2 + ThreadLocalRandom.current().nextLong(waitNanos / 2 + 1);
            long until = System.nanoTime() + jittered;
            for (long left = jittered; left > 0 && !closed; left = until - System.nanoTime()) {
                LockSupport.parkNanos(this, left);
            }
            waitNanos = Math.min(maxWaitNanos, waitNanos * 2);
            if (closed) {
                return false;
            }
            SocketChannel ch;
            try {
                ch = connectAndHandshake();
            } catch (ServerException e) {
                if (!reconnectAfter(e.code())) {
                    event(e);
                    close();
                    return false;
                }
                continue;
            } catch (ServerIdentityException e) {
                // Not retried: a server that cannot prove itself will not learn to by being asked again.
                event(e);
                close();
                return false;
            } catch (TernException e) {
                continue;
            }
            try {
                resubscribeAndAttach(ch);
            } catch (TernException | IOException e) {
                closeQuietly(ch);
                if (closed) {
                    return false;
                }
                continue;
            }
            synchronized (closeLock) {
                if (closed) {
                    closeQuietly(ch);
                    return false;
                }
                status = ConnectionStatus.CONNECTED;
            }
            event(ConnectionEvent.RECONNECTED);
            return true;
        }
        return false;
    }

    /** Server errors after which reconnecting can help: 2xx (connection, limits) and 5xx. Not auth, not protocol. */
    private static boolean reconnectAfter(ErrorCode code) {
        return code == null || code.code() / 100 == 2 || code.code() / 100 == 5;
    }

    private void resubscribeAndAttach(SocketChannel ch) throws IOException {
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = ClientTimer.schedule(() -> {
            timedOut.set(true);
            closeQuietly(ch);
        }, options.connectTimeout().toNanos());
        IOException[] failure = new IOException[1];
        try {
            out.attach(ch, () -> {
                try {
                    writeSubscriptions(ch);
                    queues.writeConsumers(ch);
                } catch (IOException e) {
                    failure[0] = e;
                    throw new TernException("re-subscribing failed: " + e.getMessage(), e);
                }
                channel = ch;
                lastInboundNanos = System.nanoTime();
            });
        } finally {
            watchdog.cancel(false);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /** Re-creates every active subscription with its sid and remaining unsubscribe-after count (write lock held). */
    private void writeSubscriptions(SocketChannel ch) throws IOException {
        ByteBuffer batch = ByteBuffer.allocate(64 << 10);
        List<TernSubscription> active = new ArrayList<>(subs.values());
        active.sort((a, b) -> Integer.compare(a.sid(), b.sid()));
        for (TernSubscription s : active) {
            if (!s.active) {
                continue;
            }
            Frame sub = new Frame.Sub(s.sid(), false, s.subject(), s.queueGroup(), s.policy(), s.maxPendingMessages());
            long max = s.maxDeliver;
            Frame unsub = max > 0 ? new Frame.Unsub(s.sid(), false, (int) Math.max(1, max - s.delivered)) : null;
            int need = Frames.encodedBytes(sub) + (unsub == null ? 0 : Frames.encodedBytes(unsub));
            if (batch.remaining() < need) {
                writeFully(ch, batch.flip());
                batch.clear();
            }
            Frames.encode(sub, batch);
            if (unsub != null) {
                Frames.encode(unsub, batch);
            }
        }
        writeFully(ch, batch.flip());
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    // ---- writer and heartbeats ----------------------------------------------------------------------------

    private void runWriter() {
        long tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(5), Math.min(TimeUnit.SECONDS.toNanos(1),
                info.pingInterval().toNanos() / 4));
        out.runWriter(tickNanos, this::heartbeat);
    }

    private void heartbeat() {
        ServerInfo limits = info;
        SocketChannel ch = channel;
        if (closed || status != ConnectionStatus.CONNECTED && status != ConnectionStatus.DRAINING || ch == null) {
            return;
        }
        long now = System.nanoTime();
        if (!readerBlocked && now - lastInboundNanos > limits.idleTimeout().toNanos()) {
            event(new TernException("nothing received for " + limits.idleTimeout() + ": connection considered dead"));
            closeQuietly(ch); // the reader sees it and reconnects
            lastInboundNanos = now;
            return;
        }
        if (now - out.lastWriteNanos() > limits.pingInterval().toNanos()) {
            out.tryPutControl(new Frame.Ping(nextPingId()));
        }
    }

    private int nextPingId() {
        int id = nextPingId.getAndIncrement();
        return id != 0 ? id : nextPingId.getAndIncrement();
    }

    // ---- dispatch -----------------------------------------------------------------------------------------

    private void dispatch(Object target, Object item) {
        try {
            if (target instanceof TernSubscription s) {
                s.handler.onMessage((Message) item);
            } else if (target instanceof TernQueueConsumer q) {
                q.handle((Delivery) item);
            } else if (target instanceof PendingRequest p) {
                p.complete(item);
            } else if (target instanceof ConnectionEvent e) {
                if (listener != null) {
                    listener.onEvent(e, this);
                }
            } else if (target instanceof TernException e) {
                if (listener != null) {
                    listener.onError(e);
                }
            }
        } catch (Throwable t) {
            if (target instanceof TernSubscription s && listener != null) {
                try {
                    listener.onError(new TernException("handler of " + s + " threw " + t, t));
                } catch (RuntimeException ignored) {
                    // a failing listener must not stop delivery
                }
            }
        }
    }

    /** Queues a listener event (reader thread, or the opening thread before the reader starts). */
    private void event(ConnectionEvent e) {
        if (listener != null) {
            ring.offer(e, null);
        }
    }

    private void event(Throwable error) {
        if (listener == null) {
            return;
        }
        TernException e = error instanceof TernException te ? te : new TernException(String.valueOf(error), error);
        if (Thread.currentThread() == readerThread) {
            ring.offer(e, null);
        } else {
            try {
                listener.onError(e);
            } catch (RuntimeException ignored) {
                // the listener's failure is its own
            }
        }
    }

    // ---- publish ------------------------------------------------------------------------------------------

    @Override
    public void publish(String subject, byte[] payload) {
        publish(subject, null, null, payload);
    }

    @Override
    public void publish(String subject, String replyTo, Map<String, String> headers, byte[] payload) {
        byte[] reply = replyTo == null ? null : subjectBytes(replyTo);
        publish(subjectBytes(subject), reply, headers, payload);
    }

    private void publish(byte[] subject, byte[] reply, Map<String, String> headers, byte[] payload) {
        if (closed) {
            throw new ConnectionClosedException("connection closed");
        }
        if (payload == null) {
            throw new IllegalArgumentException("payload is null (use an empty array)");
        }
        ServerInfo limits = info;
        byte[] headerBlock = null;
        if (headers != null && !headers.isEmpty()) {
            if (headers.size() > limits.maxHeaders()) {
                throw new IllegalArgumentException(headers.size() + " headers > max " + limits.maxHeaders());
            }
            for (Map.Entry<String, String> e : headers.entrySet()) {
                if (e.getKey() == null || e.getValue() == null || e.getKey().isEmpty()) {
                    throw new IllegalArgumentException("header keys must be non-empty and values non-null: " + e);
                }
            }
            try {
                headerBlock = Frames.encodeHeaders(headers);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("header too long: " + e.getMessage(), e);
            }
        }
        long bodyBytes = (long) Frames.pubBytes(subject, reply, headerBlock, 0) + payload.length - Frame.PREFIX_BYTES;
        if (bodyBytes > limits.maxFrameBytes()) {
            throw new IllegalArgumentException("message frame " + bodyBytes + " bytes > max " + limits.maxFrameBytes()
                    + " (payload " + payload.length + " bytes)");
        }
        out.putPub(0, subject, reply, headerBlock, payload, 0, payload.length);
    }

    // ---- durable queues (TernQueues) ---------------------------------------------------------------------

    @Override
    public QueueInfo declareQueue(String name, QueueOptions options) {
        return queues.declare(name, options == null ? QueueOptions.durableQueue() : options);
    }

    @Override
    public void deleteQueue(String name) {
        queues.delete(name);
    }

    @Override
    public long purgeQueue(String name) {
        return queues.purge(name);
    }

    @Override
    public List<QueueInfo> listQueues() {
        return queues.list();
    }

    @Override
    public int redrive(String deadLetterQueue, String targetQueueOrNull) {
        return queues.redrive(deadLetterQueue, targetQueueOrNull);
    }

    @Override
    public boolean bindQueue(String queue, String subjectPattern) {
        return queues.bind(queue, subjectPattern, false);
    }

    @Override
    public boolean unbindQueue(String queue, String subjectPattern) {
        return queues.bind(queue, subjectPattern, true);
    }

    @Override
    public CompletableFuture<Confirm> send(String queue, byte[] payload) {
        return queues.send(queue, null, payload);
    }

    @Override
    public CompletableFuture<Confirm> send(String queue, Map<String, String> headers, byte[] payload) {
        return queues.send(queue, headers, payload);
    }

    @Override
    public Confirm sendAndWait(String queue, byte[] payload, Duration timeout) {
        return queues.sendAndWait(queue, payload, timeout);
    }

    @Override
    public QueueConsumer consume(String queue, ConsumeOptions options, DeliveryHandler handler) {
        return queues.consume(queue, options, handler);
    }

    /** A fresh id from the sid counter (requests and consumers share it with subscriptions). */
    int nextId() {
        return nextSid.getAndIncrement();
    }

    /** The reader is waiting on a full pull queue: silence from the server is not idleness. */
    void readerBlocked(boolean blocked) {
        readerBlocked = blocked;
    }

    /** A validated header block for headers (null or empty: null), as publish checks them. */
    byte[] headerBlock(Map<String, String> headers) {
        if (headers == null || headers.isEmpty()) {
            return null;
        }
        if (headers.size() > info.maxHeaders()) {
            throw new IllegalArgumentException(headers.size() + " headers > max " + info.maxHeaders());
        }
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey() == null || e.getValue() == null || e.getKey().isEmpty()) {
                throw new IllegalArgumentException("header keys must be non-empty and values non-null: " + e);
            }
        }
        try {
            return Frames.encodeHeaders(headers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("header too long: " + e.getMessage(), e);
        }
    }

    /** The validated UTF-8 of a publish subject, cached. */
    private byte[] subjectBytes(String subject) {
        if (subject == null) {
            throw new IllegalArgumentException("subject is null");
        }
        byte[] b = subjectCache.get(subject);
        if (b != null) {
            return b;
        }
        b = subject.getBytes(StandardCharsets.UTF_8);
        try {
            Subjects.checkSubject(ByteBuffer.wrap(b), 0, b.length, info.maxSubjectBytes(), MAX_SUBJECT_TOKENS);
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("invalid subject '" + subject + "': " + e.getMessage(), e);
        }
        if (subjectCache.size() < SUBJECT_CACHE_ENTRIES) {
            subjectCache.put(subject, b);
        }
        return b;
    }

    // ---- subscribe ----------------------------------------------------------------------------------------

    @Override
    public Subscription subscribe(String subject) {
        return subscribe(SubscribeOptions.of(subject), null);
    }

    @Override
    public Subscription subscribe(String subject, String queueGroup) {
        return subscribe(SubscribeOptions.builder(subject).queueGroup(queueGroup).build(), null);
    }

    @Override
    public Subscription subscribe(String subject, MessageHandler handler) {
        return subscribe(SubscribeOptions.of(subject), requireHandler(handler));
    }

    @Override
    public Subscription subscribe(String subject, String queueGroup, MessageHandler handler) {
        return subscribe(SubscribeOptions.builder(subject).queueGroup(queueGroup).build(), requireHandler(handler));
    }

    private static MessageHandler requireHandler(MessageHandler handler) {
        if (handler == null) {
            throw new IllegalArgumentException("handler is null (use subscribe(subject) for a pull subscription)");
        }
        return handler;
    }

    /** Throws IllegalArgumentException naming what is wrong with a subject pattern (SUB, QBIND). */
    void checkPattern(String pattern) {
        try {
            Subjects.checkPattern(pattern, info.maxSubjectBytes(), MAX_SUBJECT_TOKENS);
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("invalid subject pattern '" + pattern + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Subscription subscribe(SubscribeOptions options, MessageHandler handler) {
        ServerInfo limits = info;
        checkPattern(options.subject());
        String queue = options.queueGroup();
        if (queue != null) {
            try {
                Subjects.checkSubject(queue, limits.maxSubjectBytes(), 1);
            } catch (ProtocolException e) {
                throw new IllegalArgumentException("invalid queue group '" + queue + "' (one token): " + e.getMessage(), e);
            }
        }
        TernSubscription s = new TernSubscription(this, nextSid.getAndIncrement(), options, handler, false);
        CompletableFuture<Void> ack = register(s, true);
        if (ack != null) {
            awaitAck(s, ack);
        }
        return s;
    }

    /** Registers s and sends SUB when attached; returns the OK waiter when ack is asked and SUB was sent. */
    private CompletableFuture<Void> register(TernSubscription s, boolean ack) {
        CompletableFuture<Void> waiter = null;
        out.lock.lock();
        try {
            if (closed || status == ConnectionStatus.DRAINING) {
                throw new ConnectionClosedException(closed ? "connection closed" : "connection draining");
            }
            if (subs.size() >= info.maxSubscriptions()) {
                throw new TernException("subscription limit " + info.maxSubscriptions() + " reached");
            }
            subs.put(s.sid(), s);
            if (out.isAttached()) {
                if (ack) {
                    waiter = new CompletableFuture<>();
                    ackWaiters.put(s.sid(), waiter);
                }
                try {
                    out.putControl(new Frame.Sub(s.sid(), ack, s.subject(), s.queueGroup(), s.policy(),
                            s.maxPendingMessages()));
                } catch (RuntimeException e) {
                    subs.remove(s.sid());
                    ackWaiters.remove(s.sid());
                    throw e;
                }
            }
        } finally {
            out.lock.unlock();
        }
        return waiter;
    }

    private void awaitAck(TernSubscription s, CompletableFuture<Void> ack) {
        try {
            ack.get(options.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            ackWaiters.remove(s.sid());
            unsubscribe(s, 0);
            throw new RequestTimeoutException("no OK for SUB " + s.subject() + " within " + options.connectTimeout());
        } catch (ExecutionException e) {
            forget(s);
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unsubscribe(s, 0);
            throw new TernException("interrupted while subscribing");
        }
    }

    /** Drops a subscription the server refused (no UNSUB: it does not exist there). */
    private void forget(TernSubscription s) {
        out.lock.lock();
        try {
            subs.remove(s.sid());
            s.end();
        } finally {
            out.lock.unlock();
        }
    }

    void unsubscribe(TernSubscription s, int afterMessages) {
        if (afterMessages < 0) {
            throw new IllegalArgumentException("afterMessages " + afterMessages + " < 0");
        }
        out.lock.lock();
        try {
            if (!s.active) {
                return;
            }
            if (afterMessages > 0) {
                s.maxDeliver = afterMessages;
                if (s.delivered < afterMessages) {
                    if (out.isAttached()) {
                        out.putControl(new Frame.Unsub(s.sid(), false, afterMessages));
                    }
                    return;
                }
            }
            endSubscription(s, true);
        } finally {
            out.lock.unlock();
        }
    }

    /** Ends s locally, and on the server when sendUnsub (caller need not hold the lock). */
    private void endSubscription(TernSubscription s, boolean sendUnsub) {
        out.lock.lock();
        try {
            if (!s.active) {
                return;
            }
            s.end();
            subs.remove(s.sid());
            if (sendUnsub && !closed && out.isAttached()) {
                out.putControl(new Frame.Unsub(s.sid(), false, 0));
            }
        } finally {
            out.lock.unlock();
        }
    }

    // ---- request / reply ----------------------------------------------------------------------------------

    /** A request waiting for its reply; its deadline is enforced by {@link #sweepRequests()}. */
    private static final class PendingRequest {
        final String subject;
        final boolean async;
        final Duration timeout;
        final long deadlineNanos;
        final CompletableFuture<Message> future = new CompletableFuture<>();

        PendingRequest(String subject, boolean async, Duration timeout) {
            this.subject = subject;
            this.async = async;
            this.timeout = timeout;
            this.deadlineNanos = System.nanoTime() + timeout.toNanos();
        }

        void complete(Object result) {
            if (result instanceof Message m) {
                future.complete(m);
            } else {
                future.completeExceptionally((Throwable) result);
            }
        }
    }

    @Override
    public CompletableFuture<Message> requestAsync(String subject, byte[] payload, Duration timeout) {
        return startRequest(subject, payload, timeout, true).future;
    }

    @Override
    public Message request(String subject, byte[] payload, Duration timeout) {
        PendingRequest p = startRequest(subject, payload, timeout, false);
        try {
            return p.future.get();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted while waiting for a reply from " + subject);
        }
    }

    private PendingRequest startRequest(String subject, byte[] payload, Duration timeout, boolean async) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        byte[] subjectBytes = subjectBytes(subject);
        ensureInbox();
        long token = inbox.nextToken();
        PendingRequest p = new PendingRequest(subject, async, timeout);
        pending.put(token, p);
        armSweep(p.deadlineNanos);
        try {
            publish(subjectBytes, inbox.replySubject(token), null, payload);
        } catch (RuntimeException e) {
            pending.remove(token);
            throw e;
        }
        return p;
    }

    /**
     * Makes sure a sweep runs by deadlineNanos. Request timeouts share one timer task per connection,
     * armed for the earliest deadline, instead of a task per request: scheduling (and cancelling) a
     * task per request woke the shared timer thread on every round trip.
     */
    private void armSweep(long deadlineNanos) {
        synchronized (sweepLock) {
            if (sweep != null && deadlineNanos - sweepAtNanos >= 0) {
                return;
            }
            if (sweep != null) {
                sweep.cancel(false);
            }
            sweepAtNanos = deadlineNanos;
            sweep = ClientTimer.schedule(this::sweepRequests, deadlineNanos - System.nanoTime());
        }
    }

    /** On the timer: fails the requests past their deadline, then re-arms for the earliest one left. */
    private void sweepRequests() {
        synchronized (sweepLock) {
            sweep = null;
        }
        long now = System.nanoTime();
        long next = 0;
        boolean more = false;
        for (Map.Entry<Long, PendingRequest> e : pending.entrySet()) {
            PendingRequest p = e.getValue();
            if (p.deadlineNanos - now > 0) {
                next = more && next - p.deadlineNanos < 0 ? next : p.deadlineNanos;
                more = true;
            } else if (pending.remove(e.getKey(), p)) {
                RequestTimeoutException ex = new RequestTimeoutException("no reply from " + p.subject + " within "
                        + p.timeout);
                if (p.async) {
                    CompletableFuture.runAsync(() -> p.complete(ex)); // user stages must not run on the timer
                } else {
                    p.complete(ex);
                }
            }
        }
        if (more && !closed) {
            armSweep(next);
        }
    }

    private void ensureInbox() {
        if (inboxSub != null) {
            return;
        }
        synchronized (inboxLock) {
            if (inboxSub == null) {
                TernSubscription s = new TernSubscription(this, nextSid.getAndIncrement(),
                        SubscribeOptions.of(inbox.pattern()), null, true);
                // No OK needed: the server processes SUB before any PUB sent after it.
                register(s, false);
                inboxSub = s;
            }
        }
    }

    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof NoRespondersException e) {
            return new NoRespondersException(e.getMessage().substring("no responders for ".length()));
        } else if (cause instanceof RequestTimeoutException e) {
            return new RequestTimeoutException(e.getMessage());
        } else if (cause instanceof ConnectionClosedException e) {
            return new ConnectionClosedException(e.getMessage());
        } else if (cause instanceof ServerException e) {
            return ServerException.of(e.wireCode(), e.text());
        } else if (cause instanceof RuntimeException e) {
            return e;
        }
        return new TernException(String.valueOf(cause), cause);
    }

    // ---- flush, drain, close ------------------------------------------------------------------------------

    @Override
    public void flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (closed) {
            throw new ConnectionClosedException("connection closed");
        }
        if (!out.isAttached()) {
            throw new ConnectionClosedException("not connected (status " + status + ")");
        }
        int id = nextPingId();
        CompletableFuture<Void> w = new CompletableFuture<>();
        pongWaiters.put(id, w);
        try {
            out.putControl(new Frame.Ping(id));
            w.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new RequestTimeoutException("flush: no PONG within " + timeout);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted in flush");
        } finally {
            pongWaiters.remove(id);
        }
    }

    @Override
    public void flush() {
        flush(options.connectTimeout());
    }

    @Override
    public void drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            status = ConnectionStatus.DRAINING;
        }
        boolean done = false;
        try {
            for (TernSubscription s : new ArrayList<>(subs.values())) {
                if (!s.inbox) {
                    endSubscription(s, true);
                }
            }
            // After this PONG the server has processed every UNSUB: nothing more arrives for them.
            flush(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (Thread.currentThread() == dispatchThread) {
                done = true; // called from a handler: what is queued behind it cannot run before close
            } else {
                while (!(ring.isIdle() && pending.isEmpty()) && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
                }
                done = ring.isIdle() && pending.isEmpty();
            }
        } catch (TernException e) {
            done = false;
        } finally {
            close();
        }
        if (!done) {
            throw new RequestTimeoutException("drain did not finish within " + timeout + "; connection closed");
        }
    }

    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
            status = ConnectionStatus.CLOSED;
        }
        Thread self = Thread.currentThread();
        if (self != readerThread) {
            out.flushAndDetach(System.nanoTime() + Math.min(options.connectTimeout().toNanos(), TimeUnit.SECONDS.toNanos(2)));
        }
        out.close();
        closeQuietly(channel);
        ring.close();
        ConnectionClosedException closedEx = new ConnectionClosedException("connection closed");
        failAll(pongWaiters, closedEx);
        failAll(ackWaiters, closedEx);
        queues.onClose(closedEx);
        for (Long token : new ArrayList<>(pending.keySet())) {
            PendingRequest p = pending.remove(token);
            if (p != null) {
                p.complete(closedEx);
            }
        }
        synchronized (sweepLock) {
            if (sweep != null) {
                sweep.cancel(false);
                sweep = null;
            }
        }
        out.lock.lock();
        try {
            for (TernSubscription s : subs.values()) {
                s.end();
            }
            subs.clear();
        } finally {
            out.lock.unlock();
        }
        for (Thread t : new Thread[] {readerThread, writerThread, dispatchThread}) {
            if (t != null && t != self) {
                t.interrupt();
                LockSupport.unpark(t);
            }
        }
        for (Thread t : new Thread[] {readerThread, writerThread, dispatchThread}) {
            if (t != null && t != self) {
                try {
                    t.join(TimeUnit.SECONDS.toMillis(2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        boolean consumerStopped = dispatchThread == null || dispatchThread == self || !dispatchThread.isAlive();
        if (consumerStopped) {
            // Queued events, errors and replies still complete; queued handler messages are dropped.
            ring.drainRemaining((target, item) -> {
                if (!(target instanceof TernSubscription) && !TernQueues.isQueueTarget(target)) {
                    dispatch(target, item);
                }
            });
        }
        if (listener != null) {
            try {
                listener.onEvent(ConnectionEvent.CLOSED, this);
            } catch (RuntimeException ignored) {
                // the listener's failure is its own
            }
        }
    }

    private static void failAll(ConcurrentHashMap<Integer, CompletableFuture<Void>> waiters, TernException e) {
        for (Integer id : new ArrayList<>(waiters.keySet())) {
            CompletableFuture<Void> w = waiters.remove(id);
            if (w != null) {
                w.completeExceptionally(e);
            }
        }
    }

    static void closeQuietly(WritableByteChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing is best effort
            }
        }
    }

    @Override
    public ConnectionStatus status() {
        return status;
    }

    @Override
    public ServerInfo serverInfo() {
        return info;
    }

    @Override
    public String toString() {
        return "TernConnection[" + connectionId + " " + options.host() + ":" + options.port() + " " + status + "]";
    }
}
