package tern.client;

import java.io.IOException;
import java.nio.ByteBuffer;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import tern.protocol.Codec;
import tern.protocol.ErrorCode;
import tern.protocol.Flags;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.ProtocolException;
import tern.protocol.QueueSpec;

/**
 * The queue half of a {@link TernConnection} (docs/protocol.md section 16): admin requests, sends with confirms
 * (windowed by {@link ConnectOptions#maxUnconfirmed()}), consumers and their settlements.
 *
 * <p>Ids: SEND ids have the top bit set (their own counter); requests and consumers take ids from the connection's
 * sid counter, so an ERROR's id names exactly one waiting thing. Confirms complete on the reader thread (dependent
 * stages must not block); push deliveries run on the dispatch thread, in order with messages and events.
 */
final class TernQueues {
    static final int SEND_ID_BIT = 0x8000_0000;
    /** Longest queue name a server accepts (names become directory names). */
    static final int MAX_QUEUE_NAME_BYTES = 200;
    private static final long WINDOW_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final TernConnection connection;
    private final WriteBuffer out;
    private final DeliveryRing ring;
    private final ConnectOptions options;
    private final Semaphore window;
    private final AtomicInteger nextSendId = new AtomicInteger();
    private final ConcurrentHashMap<Integer, PendingSend> sends = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, Request> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, TernQueueConsumer> consumers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, byte[]> queueNames = new ConcurrentHashMap<>();
    // Reader thread only.
    private int lastConsumerId = -1;
    private TernQueueConsumer lastConsumer;
    // Reader thread only: the last DELIVER subject, reused while its bytes repeat (a queue's deliveries mostly
    // carry the queue's own name).
    private final LastSubject lastSubject = new LastSubject();

    TernQueues(TernConnection connection, WriteBuffer out, DeliveryRing ring, ConnectOptions options) {
        this.connection = connection;
        this.out = out;
        this.ring = ring;
        this.options = options;
        this.window = new Semaphore(options.maxUnconfirmed());
    }

    /** A send awaiting its CONFIRM. */
    private static final class PendingSend extends CompletableFuture<Confirm> {
        final String queue;

        PendingSend(String queue) {
            this.queue = queue;
        }
    }

    /** An admin request, CONSUME or CANCEL awaiting its answer. */
    private static final class Request {
        final FrameType type;
        final CompletableFuture<Object> future = new CompletableFuture<>();
        final List<QueueInfo> infos = new ArrayList<>();

        Request(FrameType type) {
            this.type = type;
        }
    }

    // ---- admin ------------------------------------------------------------------------------------------

    QueueInfo declare(String name, QueueOptions o) {
        byte[] nameBytes = queueBytes(name);
        if (o.deadLetterQueue() != null) {
            queueBytes(o.deadLetterQueue());
        }
        long fsync = o.fsyncInterval() == null ? 0 : Math.max(1, o.fsyncInterval().toMillis());
        if (fsync > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("fsyncInterval " + o.fsyncInterval() + " too long");
        }
        QueueSpec spec = new QueueSpec(o.durable(), o.noAck(), o.overflow() == Overflow.DROP_HEAD, (int) fsync,
                millis(o.messageTtl()), millis(o.expires()), millis(o.ackTimeout()), o.maxLength(), o.maxBytes(),
                o.maxDeliveries(), o.deadLetterQueue() == null ? "" : o.deadLetterQueue(), o.bindings());
        assert nameBytes.length > 0;
        int id = connection.nextId();
        @SuppressWarnings("unchecked")
        List<QueueInfo> infos = (List<QueueInfo>) call(id, new Frame.QDeclare(id, name, spec));
        return infos.get(0);
    }

    void delete(String name) {
        queueBytes(name);
        int id = connection.nextId();
        call(id, new Frame.QDelete(id, name));
    }

    long purge(String name) {
        queueBytes(name);
        int id = connection.nextId();
        return (Long) call(id, new Frame.QPurge(id, name));
    }

    @SuppressWarnings("unchecked")
    List<QueueInfo> list() {
        int id = connection.nextId();
        return (List<QueueInfo>) call(id, new Frame.QList(id, ""));
    }

    int redrive(String deadLetterQueue, String target) {
        queueBytes(deadLetterQueue);
        if (target != null) {
            queueBytes(target);
        }
        int id = connection.nextId();
        long n = (Long) call(id, new Frame.QRedrive(id, deadLetterQueue, target == null ? "" : target));
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    /** QBIND: true when the binding was added (or, unbinding, removed); false when nothing changed. */
    boolean bind(String queue, String pattern, boolean unbind) {
        queueBytes(queue);
        if (pattern == null) {
            throw new IllegalArgumentException("subject pattern is null");
        }
        connection.checkPattern(pattern);
        int id = connection.nextId();
        return (Long) call(id, new Frame.QBind(id, unbind, queue, pattern)) > 0;
    }

    private static long millis(Duration d) {
        return d == null ? 0 : Math.max(1, d.toMillis());
    }

    /** Sends a request and waits (connect timeout) for its answer: the list of QINFOs, a count, or null (OK). */
    private Object call(int id, Frame request) {
        Request r = new Request(request.type());
        requests.put(id, r);
        try {
            if (!out.isAttached()) {
                throw new ConnectionClosedException(connection.status() == ConnectionStatus.CLOSED ? "connection closed"
                        : "not connected (status " + connection.status() + ")");
            }
            out.putControl(request);
            return r.future.get(options.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new RequestTimeoutException("no answer to " + request.type() + " within " + options.connectTimeout());
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted while waiting for " + request.type());
        } finally {
            requests.remove(id, r);
        }
    }

    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof ServerException e) {
            return ServerException.of(e.wireCode(), e.text());
        } else if (cause instanceof ConnectionClosedException e) {
            return new ConnectionClosedException(e.getMessage());
        } else if (cause instanceof RuntimeException e) {
            return e;
        }
        return new TernException(String.valueOf(cause), cause);
    }

    /** The UTF-8 of a valid queue name (cached); IllegalArgumentException otherwise. */
    private byte[] queueBytes(String name) {
        if (name == null) {
            throw new IllegalArgumentException("queue name is null");
        }
        byte[] b = queueNames.get(name);
        if (b != null) {
            return b;
        }
        if (name.isEmpty() || name.length() > MAX_QUEUE_NAME_BYTES || name.charAt(0) == '.') {
            throw new IllegalArgumentException("invalid queue name '" + name + "': 1.." + MAX_QUEUE_NAME_BYTES
                    + " of [A-Za-z0-9._-], not starting with '.'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '-')) {
                throw new IllegalArgumentException("invalid queue name '" + name + "': '" + c + "' at " + i
                        + " (allowed: letters, digits, '.', '_', '-')");
            }
        }
        b = name.getBytes(StandardCharsets.US_ASCII);
        if (queueNames.size() < 4096) {
            queueNames.put(name, b);
        }
        return b;
    }

    // ---- send -------------------------------------------------------------------------------------------

    CompletableFuture<Confirm> send(String queue, Map<String, String> headers, byte[] payload) {
        byte[] name = queueBytes(queue);
        if (payload == null) {
            throw new IllegalArgumentException("payload is null (use an empty array)");
        }
        byte[] headerBlock = connection.headerBlock(headers);
        int frameBytes = Frames.sendBytes(name, headerBlock, payload.length);
        ServerInfo limits = connection.serverInfo();
        if (frameBytes - Frame.PREFIX_BYTES > limits.maxFrameBytes()) {
            throw new IllegalArgumentException("send frame " + (frameBytes - Frame.PREFIX_BYTES) + " bytes > max "
                    + limits.maxFrameBytes() + " (payload " + payload.length + " bytes)");
        }
        acquireWindow();
        int id;
        PendingSend p = new PendingSend(queue);
        do {
            id = SEND_ID_BIT | (nextSendId.getAndIncrement() & ~SEND_ID_BIT);
        } while (sends.putIfAbsent(id, p) != null);
        int sendId = id;
        try {
            out.putFrame(frameBytes, true, dst -> Frames.putSend(dst, sendId, true, name, headerBlock, payload));
        } catch (RuntimeException e) {
            if (sends.remove(sendId, p)) {
                window.release();
            }
            p.completeExceptionally(e);
        }
        return p;
    }

    private void acquireWindow() {
        try {
            while (!window.tryAcquire(WINDOW_POLL_NANOS, TimeUnit.NANOSECONDS)) {
                if (connection.status() == ConnectionStatus.CLOSED) {
                    throw new ConnectionClosedException("connection closed");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted while waiting for a confirm window slot");
        }
    }

    Confirm sendAndWait(String queue, byte[] payload, Duration timeout) {
        CompletableFuture<Confirm> f = send(queue, null, payload);
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new RequestTimeoutException("no confirm from queue " + queue + " within " + timeout);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted while waiting for a confirm");
        }
    }

    // ---- consumers --------------------------------------------------------------------------------------

    QueueConsumer consume(String queue, ConsumeOptions o, DeliveryHandler handler) {
        queueBytes(queue);
        ConsumeOptions opts = o == null ? ConsumeOptions.defaults() : o;
        int id = connection.nextId();
        TernQueueConsumer c = new TernQueueConsumer(this, id, queue, opts, handler);
        consumers.put(id, c);
        if (!out.isAttached()) {
            if (connection.status() == ConnectionStatus.CLOSED) {
                consumers.remove(id);
                throw new ConnectionClosedException("connection closed");
            }
            return c; // created on reconnect
        }
        try {
            call(id, new Frame.Consume(id, true, queue, opts.prefetch(), opts.autoAck()));
        } catch (RuntimeException e) {
            consumers.remove(id, c);
            c.end();
            throw e;
        }
        return c;
    }

    void cancel(TernQueueConsumer c) {
        if (!consumers.remove(c.id, c)) {
            c.end();
            return;
        }
        c.end();
        if (out.isAttached()) {
            try {
                out.putControl(new Frame.Cancel(c.id, false));
            } catch (ConnectionClosedException e) {
                // the server cancels it when the connection closes
            }
        }
    }

    void ack(TernQueueConsumer c, long token) {
        if (c.options.autoAck()) {
            return; // the server settled it when it wrote it
        }
        out.putAck(c.id, token);
    }

    void nack(TernQueueConsumer c, long token, Duration delay) {
        long millis = delay == null ? 0 : delay.toMillis();
        if (millis < 0 || millis > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("requeue delay " + delay + " outside 0.." + Integer.MAX_VALUE + " ms");
        }
        settle(new Frame.Nack(c.id, token, (int) millis));
    }

    void reject(TernQueueConsumer c, long token) {
        settle(new Frame.Reject(c.id, token));
    }

    private void settle(Frame f) {
        if (out.isAttached()) {
            try {
                out.putControl(f);
            } catch (ConnectionClosedException e) {
                // lost with the connection: the server redelivers
            }
        }
    }

    // ---- inbound (reader thread) --------------------------------------------------------------------------

    /** A queue frame from the server (type code 0x20..0x2F). */
    void onFrame(ByteBuffer b, int off, int frameBytes, int code, int id) {
        if (code == FrameType.CONFIRM.code()) {
            int flags = b.get(off + Frame.FLAGS_OFFSET);
            if (frameBytes != Frame.BODY_OFFSET + 9 || flags != 0 || b.getShort(off + Frame.RESERVED_OFFSET) != 0) {
                throw Codec.malformed("CONFIRM of " + frameBytes + " bytes, flags " + flags);
            }
            onConfirm(id, b.getLong(off + Frame.BODY_OFFSET), b.get(off + Frame.BODY_OFFSET + 8) != 0);
            return;
        }
        if (code == FrameType.DELIVER.code()) {
            onDeliver(b, off, frameBytes, id);
            return;
        }
        Frame f = Frames.decode(b.duplicate().position(off).limit(off + frameBytes));
        Request r = requests.get(id);
        if (f instanceof Frame.QInfo q) {
            if (r != null) {
                r.infos.add(info(q));
                if (r.type == FrameType.QDECLARE) {
                    r.future.complete(r.infos);
                }
            }
        } else if (f instanceof Frame.Count c) {
            if (r != null) {
                r.future.complete(r.type == FrameType.QLIST ? Collections.unmodifiableList(r.infos) : c.count());
            }
        } else {
            throw new ProtocolException(ErrorCode.UNEXPECTED_FRAME, f.type() + " from a server");
        }
    }

    private static QueueInfo info(Frame.QInfo q) {
        QueueSpec s = q.spec();
        QueueOptions o = new QueueOptions(s.durable(), duration(s.messageTtlMillis()), duration(s.expiryMillis()),
                Duration.ofMillis(s.ackTimeoutMillis()), s.noAck(), s.maxLengthMessages(), s.maxLengthBytes(),
                s.dropHead() ? Overflow.DROP_HEAD : Overflow.REJECT, s.maxDeliveries(), s.deadLetterQueue(),
                s.bindings(), duration(s.fsyncIntervalMillis()));
        return new QueueInfo(q.name(), s.durable(), q.depth(), q.unacked(), q.consumers(), q.published(),
                q.delivered(), q.acked(), o);
    }

    private static Duration duration(long millis) {
        return millis == 0 ? null : Duration.ofMillis(millis);
    }

    private void onConfirm(int id, long offset, boolean fsynced) {
        PendingSend p = sends.remove(id);
        if (p != null) {
            window.release();
            p.complete(new Confirm(p.queue, offset, fsynced));
        }
    }

    private void onDeliver(ByteBuffer b, int off, int frameBytes, int id) {
        int flags = b.get(off + Frame.FLAGS_OFFSET) & 0xFF;
        if ((flags & ~Flags.allowed(FrameType.DELIVER)) != 0 || b.getShort(off + Frame.RESERVED_OFFSET) != 0) {
            throw Codec.malformed("DELIVER flags 0x" + Integer.toHexString(flags) + " or reserved bytes invalid");
        }
        int end = off + frameBytes;
        int p = off + Frame.BODY_OFFSET;
        Codec.require(p, 20, end, "DELIVER fixed fields");
        long token = b.getLong(p);
        long offset = b.getLong(p + 8);
        int count = b.getInt(p + 16);
        p += 20;
        String origin = null;
        int reason = 0;
        if ((flags & Flags.DEAD_LETTER) != 0) {
            origin = Codec.str(b, p, end, "DELIVER dead-letter origin");
            p += 2 + Codec.u16(b, p);
            Codec.require(p, 5, end, "DELIVER dead-letter reason and count");
            reason = b.get(p) & 0xFF;
            p += 5;
        }
        TernQueueConsumer c = id == lastConsumerId ? lastConsumer : consumers.get(id);
        String subject = subject(b, p, end);
        p += 2 + Codec.u16(b, p);
        Map<String, String> headers = Map.of();
        if ((flags & Flags.HEADERS) != 0) {
            int start = p;
            Codec.require(p, 2, end, "DELIVER header count");
            int n = Codec.u16(b, p);
            p += 2;
            for (int i = 0; i < n; i++) {
                p += 2 + Codec.strBytes(b, p, end, "header key");
                p += 2 + Codec.strBytes(b, p, end, "header value");
            }
            headers = Collections.unmodifiableMap(Frames.decodeHeaders(b, start, p - start));
        }
        if (c == null || !c.active) {
            return; // late delivery after cancel: the server redelivers it
        }
        lastConsumerId = id;
        lastConsumer = c;
        int from = b.arrayOffset() + p;
        byte[] payload = Arrays.copyOfRange(b.array(), from, b.arrayOffset() + end);
        TernDelivery d = new TernDelivery(c, token, offset, count, origin, reason, subject, headers, payload);
        if (c.handler != null) {
            ring.offerLazily(c, d); // the read loop signals the dispatch thread once per read
        } else {
            offerPull(c, d);
        }
    }

    /** Decodes the {@code str} at p, or returns the previous subject when the bytes are the same. */
    private String subject(ByteBuffer b, int p, int end) {
        return lastSubject.of(b, p + 2, Codec.strBytes(b, p, end, "DELIVER subject"));
    }

    private void offerPull(TernQueueConsumer c, Delivery d) {
        if (c.pulled.offer(d)) {
            return;
        }
        connection.readerBlocked(true);
        try {
            while (!c.pulled.offer(d, 50, TimeUnit.MILLISECONDS)) {
                if (!c.active || connection.status() == ConnectionStatus.CLOSED) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("reader interrupted");
        } finally {
            connection.readerBlocked(false);
        }
    }

    /** OK for id: true when it answered one of ours. */
    boolean onOk(int id) {
        Request r = requests.get(id);
        if (r == null) {
            return false;
        }
        r.future.complete(null);
        return true;
    }

    /**
     * ERROR for id: fails the send or request it names; for a consumer it is reported to the listener (a stale
     * ack) and, when its queue is gone, ends the consumer. True when handled here.
     */
    boolean onError(int id, ServerException e) {
        if ((id & SEND_ID_BIT) != 0) {
            PendingSend p = sends.remove(id);
            if (p != null) {
                window.release();
                p.completeExceptionally(e);
                return true;
            }
            return false;
        }
        Request r = requests.get(id);
        if (r != null) {
            r.future.completeExceptionally(e);
            return true;
        }
        TernQueueConsumer c = consumers.get(id);
        if (c != null && e.code() == ErrorCode.QUEUE_NOT_FOUND) {
            consumers.remove(id, c);
            c.end();
        }
        return false; // reported to the listener by the caller
    }

    // ---- connection lifecycle ---------------------------------------------------------------------------

    /** The connection was lost: unconfirmed sends fail (resend them), requests fail, CONSUMEs succeed (re-created). */
    void onDisconnect(TernException lost) {
        failSends(lost);
        for (Integer id : new ArrayList<>(requests.keySet())) {
            Request r = requests.get(id);
            if (r != null) {
                if (r.type == FrameType.CONSUME) {
                    r.future.complete(null);
                } else {
                    r.future.completeExceptionally(lost);
                }
            }
        }
        lastConsumerId = -1;
        lastConsumer = null;
    }

    private void failSends(TernException e) {
        for (Integer id : new ArrayList<>(sends.keySet())) {
            PendingSend p = sends.remove(id);
            if (p != null) {
                window.release();
                p.completeExceptionally(new ConnectionClosedException(e.getMessage()));
            }
        }
    }

    /** Closed for good. */
    void onClose(TernException closed) {
        failSends(closed);
        for (Request r : requests.values()) {
            r.future.completeExceptionally(closed);
        }
        for (TernQueueConsumer c : consumers.values()) {
            c.end();
        }
        consumers.clear();
    }

    /** Re-creates every consumer (same ids) on a new connection (write lock held, before other frames). */
    void writeConsumers(WritableByteChannel ch) throws IOException {
        List<TernQueueConsumer> all = new ArrayList<>(consumers.values());
        if (all.isEmpty()) {
            return;
        }
        all.sort((a, b) -> Integer.compare(a.id, b.id));
        ByteBuffer batch = ByteBuffer.allocate(64 << 10);
        for (TernQueueConsumer c : all) {
            if (!c.active) {
                continue;
            }
            Frame f = new Frame.Consume(c.id, false, c.queue(), c.options.prefetch(), c.options.autoAck());
            if (batch.remaining() < Frames.encodedBytes(f)) {
                writeFully(ch, batch.flip());
                batch.clear();
            }
            Frames.encode(f, batch);
        }
        writeFully(ch, batch.flip());
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** True when target is a queue consumer's (dispatch thread). */
    static boolean isQueueTarget(Object target) {
        return target instanceof TernQueueConsumer;
    }
}
