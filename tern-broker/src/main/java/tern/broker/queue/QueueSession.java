package tern.broker.queue;

import io.netty.buffer.ByteBuf;
import io.netty.util.collection.IntObjectHashMap;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.broker.ByteBufs;
import tern.protocol.ErrorCode;
import tern.protocol.Flags;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;
import tern.queue.DeadLetter;
import tern.queue.Delivery;
import tern.queue.QueueEngine;
import tern.queue.QueueException;
import tern.queue.QueueInfo;

/**
 * The queue side of one connection (docs/protocol.md 6.15..6.30, section 16): admin requests, SENDs and their
 * confirms, consumers and their settlements. Confined to the connection's event loop, except the engine's
 * callbacks ({@link BrokerConsumer#deliver}, publish outcomes), which hand work over to that loop.
 */
public final class QueueSession {
    private static final Logger log = LoggerFactory.getLogger(QueueSession.class);

    final QueueService service;
    final QueueChannel channel;
    private final QueueEngine engine;
    private final IntObjectHashMap<BrokerConsumer> consumers = new IntObjectHashMap<>();
    private final Outcomes outcomes = new Outcomes();
    private ArrayList<SendBatch> outcomeBatches = new ArrayList<>();
    private final Runnable drainOutcomes = this::drainOutcomes;
    // Loop only: the SENDs of this read burst not yet handed to the engine.
    private SendBatch pending;
    private volatile boolean closed;
    // Loop only: the last queue name a SEND named, reused while the bytes repeat.
    private byte[] lastQueueBytes = new byte[0];
    private String lastQueue = "";
    // Loop only: the last delivered subject and its bytes.
    private String lastSubject = "";
    private byte[] lastSubjectBytes = new byte[0];

    QueueSession(QueueService service, QueueChannel channel) {
        this.service = service;
        this.channel = channel;
        this.engine = service.engine();
    }

    // ---- input ------------------------------------------------------------------------------------------

    /**
     * Handles one client queue frame (the whole frame at index). Throws ProtocolException for a malformed frame
     * (the session closes the connection for closing codes, else answers ERROR); queue refusals are answered here.
     */
    public void onFrame(FrameType type, ByteBuf buf, int index, int frameBytes, int flags, int id) {
        if (closed) {
            return;
        }
        try {
            switch (type) {
                case SEND -> onSend(buf, index, frameBytes, flags, id);
                case ACK -> onAck(buf, index, frameBytes, id);
                case QDECLARE -> onDeclare((Frame.QDeclare) decode(buf, index, frameBytes));
                case QDELETE -> {
                    engine.delete(((Frame.QDelete) decode(buf, index, frameBytes)).name());
                    service.bindingsChanged();
                    writeHeaderOnly(FrameType.OK, id);
                }
                case QPURGE -> writeCount(id, engine.purge(((Frame.QPurge) decode(buf, index, frameBytes)).name()));
                case QLIST -> onList((Frame.QList) decode(buf, index, frameBytes));
                case QREDRIVE -> {
                    Frame.QRedrive r = (Frame.QRedrive) decode(buf, index, frameBytes);
                    writeCount(id, engine.redrive(r.deadLetterQueue(), r.target().isEmpty() ? null : r.target()));
                }
                case QBIND -> onBind((Frame.QBind) decode(buf, index, frameBytes));
                case CONSUME -> onConsume((Frame.Consume) decode(buf, index, frameBytes));
                case CANCEL -> onCancel((Frame.Cancel) decode(buf, index, frameBytes));
                case NACK -> {
                    Frame.Nack n = (Frame.Nack) decode(buf, index, frameBytes);
                    settle(n.id(), n.token(), 1, n.delayMillis());
                }
                case REJECT -> {
                    Frame.Reject r = (Frame.Reject) decode(buf, index, frameBytes);
                    settle(r.id(), r.token(), 2, 0);
                }
                default -> throw new IllegalStateException("not a client queue frame: " + type);
            }
        } catch (QueueException e) {
            channel.error(id, e.code(), e.getMessage());
        }
    }

    private static Frame decode(ByteBuf buf, int index, int frameBytes) {
        return Frames.decode(buf.nioBuffer(index, frameBytes), Limits.DEFAULT);
    }

    private void onDeclare(Frame.QDeclare d) {
        engine.declare(d.name(), QueueService.options(d.spec()));
        if (!d.spec().bindings().isEmpty()) {
            try {
                for (String b : d.spec().bindings()) {
                    engine.bind(d.name(), b);
                }
            } finally {
                service.bindingsChanged();
            }
        }
        writeFrame(QueueService.qinfo(d.id(), engine.info(d.name())));
    }

    /** QBIND (docs/protocol.md 6.30): COUNT 1 when a binding was added or removed, 0 when nothing changed. */
    private void onBind(Frame.QBind b) {
        // bind and unbind undo their change when they fail, so only a change that was made needs the refresh.
        boolean changed = b.unbind() ? engine.unbind(b.queue(), b.pattern()) : engine.bind(b.queue(), b.pattern());
        if (changed) {
            service.bindingsChanged();
        }
        writeCount(b.id(), changed ? 1 : 0);
    }

    private void onList(Frame.QList l) {
        List<QueueInfo> infos = l.name().isEmpty() ? engine.list() : List.of(engine.info(l.name()));
        for (QueueInfo i : infos) {
            writeFrame(QueueService.qinfo(l.id(), i));
        }
        writeCount(l.id(), infos.size());
    }

    // ---- send and confirms --------------------------------------------------------------------------------

    private void onSend(ByteBuf buf, int index, int frameBytes, int flags, int id) {
        int end = index + frameBytes;
        int p = index + Frame.BODY_OFFSET;
        int queueBytes = ByteBufs.strBytes(buf, p, end, "queue");
        String queue = queueName(buf, p + 2, queueBytes);
        p += 2 + queueBytes;
        byte[] headers = EMPTY;
        if ((flags & Flags.HEADERS) != 0) {
            int start = p;
            if (p + 2 > end) {
                throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "SEND header count needs 2 bytes");
            }
            int count = buf.getUnsignedShort(p);
            p += 2;
            for (int i = 0; i < count; i++) {
                p += 2 + ByteBufs.strBytes(buf, p, end, "header key");
                p += 2 + ByteBufs.strBytes(buf, p, end, "header value");
            }
            if (count > channel.maxHeaders()) {
                throw new ProtocolException(ErrorCode.LIMIT_EXCEEDED, "header count " + count + " > max "
                        + channel.maxHeaders());
            }
            headers = new byte[p - start];
            buf.getBytes(start, headers);
        }
        byte[] payload = new byte[end - p];
        buf.getBytes(p, payload);
        SendBatch batch = pending;
        if (batch != null && !batch.queue.equals(queue)) {
            flushSends();
            batch = null;
        }
        if (batch == null) {
            batch = pending = new SendBatch(this, queue);
        }
        batch.add(headers, payload, id, (flags & Flags.ACK) != 0);
        if (batch.full()) {
            flushSends();
        }
    }

    /**
     * Loop: hands the SENDs gathered since the last call to the engine as one batch, and answers refusals. The
     * session calls it at the end of each read burst and before any frame other than SEND and ACK, so SENDs keep
     * their order relative to everything else the connection does.
     */
    public void flushSends() {
        SendBatch b = pending;
        if (b == null) {
            return;
        }
        pending = null;
        engine.publish(b.queue, b);
        for (int i = 0; i < b.size(); i++) {
            QueueException e = b.refusal(i);
            if (e != null && !closed && channel.isOpen()) {
                channel.error(b.id(i), e.code(), e.getMessage());
            }
        }
    }

    private static final byte[] EMPTY = new byte[0];

    private String queueName(ByteBuf buf, int offset, int length) {
        byte[] last = lastQueueBytes;
        if (last.length == length) {
            boolean same = true;
            for (int i = 0; i < length; i++) {
                if (last[i] != buf.getByte(offset + i)) {
                    same = false;
                    break;
                }
            }
            if (same) {
                return lastQueue;
            }
        }
        byte[] b = new byte[length];
        buf.getBytes(offset, b);
        lastQueueBytes = b;
        lastQueue = new String(b, StandardCharsets.UTF_8);
        return lastQueue;
    }

    /**
     * Any thread: a batch's outcome is known. On the loop (transient and fsync-interval queues confirm inside
     * publish) it is written at once; from the storage's sync thread it is handed over, one drain per group commit.
     */
    void outcome(SendBatch b) {
        if (channel.loop().inEventLoop()) {
            writeOutcome(b);
            return;
        }
        if (outcomes.add(b)) {
            execute(drainOutcomes);
        }
    }

    private void drainOutcomes() {
        ArrayList<SendBatch> batches = outcomes.swap(outcomeBatches);
        for (SendBatch b : batches) {
            writeOutcome(b);
        }
        if (!batches.isEmpty()) {
            channel.flush();
        }
        batches.clear();
        outcomeBatches = batches;
    }

    /** Loop: a CONFIRM for each accepted SEND that asked for one, or an ERROR for each accepted SEND. */
    private void writeOutcome(SendBatch b) {
        if (closed || !channel.isOpen()) {
            return;
        }
        QueueException failure = b.failure;
        int fsynced = b.fsynced ? 1 : 0;
        for (int i = 0; i < b.size(); i++) {
            long offset = b.offset(i);
            if (offset < 0) {
                continue;
            }
            if (failure != null) {
                channel.error(b.id(i), failure.code(), failure.getMessage());
            } else if (b.wantsConfirm(i)) {
                ByteBuf out = channel.buffer(Frame.BODY_OFFSET + 9);
                out.writeInt(Frame.HEADER_BYTES + 9).writeByte(FrameType.CONFIRM.code()).writeByte(0).writeShort(0)
                        .writeInt(b.id(i)).writeLong(offset).writeByte(fsynced);
            }
        }
        channel.written();
    }

    // ---- consumers ----------------------------------------------------------------------------------------

    private void onConsume(Frame.Consume c) {
        int id = c.id();
        if (consumers.containsKey(id)) {
            throw new ProtocolException(ErrorCode.DUPLICATE_SUBSCRIPTION, "consumer id " + id + " already in use");
        }
        if (consumers.size() >= channel.maxConsumers()) {
            throw new ProtocolException(ErrorCode.TOO_MANY_SUBSCRIPTIONS, "max " + channel.maxConsumers()
                    + " consumers per connection");
        }
        // A no-ack queue settles deliveries itself; auto-ack only matters on queues that track acks.
        boolean autoAck = c.autoAck() && !engine.info(c.queue()).options().noAck();
        BrokerConsumer consumer = new BrokerConsumer(this, id, c.queue(), autoAck, Math.max(1, c.prefetch()));
        consumers.put(id, consumer);
        try {
            consumer.engineId = engine.subscribe(c.queue(), c.prefetch(), consumer);
        } catch (QueueException e) {
            consumers.remove(id);
            consumer.cancelled = true;
            throw e;
        }
        if (c.ack()) {
            writeHeaderOnly(FrameType.OK, id);
        }
        consumer.ready = true;
        if (consumer.handoffSize.get() > 0) {
            consumer.drain();
        }
    }

    private void onCancel(Frame.Cancel c) {
        BrokerConsumer consumer = consumers.remove(c.id());
        if (consumer == null) {
            throw new ProtocolException(ErrorCode.UNKNOWN_SUBSCRIPTION, "no consumer with id " + c.id());
        }
        detach(consumer);
        if (c.ack()) {
            writeHeaderOnly(FrameType.OK, c.id());
        }
    }

    private void detach(BrokerConsumer consumer) {
        consumer.cancelled = true;
        engine.unsubscribe(consumer.queue, consumer.engineId);
        consumer.handoff.clear();
    }

    /** Loop: the engine dropped the consumer (queue deleted or expired). */
    void consumerCancelled(BrokerConsumer consumer, QueueException reason) {
        consumer.cancelled = true;
        if (consumers.get(consumer.id) == consumer) {
            consumers.remove(consumer.id);
            if (!closed && channel.isOpen()) {
                channel.error(consumer.id, reason.code(), "consumer " + consumer.id + " cancelled: "
                        + reason.getMessage());
                channel.flush();
            }
        }
    }

    private void onAck(ByteBuf buf, int index, int frameBytes, int id) {
        int body = frameBytes - Frame.BODY_OFFSET;
        if (body < 4) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "ACK count needs 4 bytes");
        }
        int p = index + Frame.BODY_OFFSET;
        int count = buf.getInt(p);
        if (count < 0 || (long) count * 8 != body - 4) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "ACK count " + Integer.toUnsignedString(count)
                    + " needs " + (count * 8L) + " token bytes, has " + (body - 4) + " (trailing or missing bytes)");
        }
        BrokerConsumer c = consumers.get(id);
        for (int i = 0; i < count; i++) {
            long token = buf.getLong(p + 4 + 8 * i);
            if (c == null) {
                staleConsumer(id, token);
                continue;
            }
            try {
                engine.ack(c.queue, token);
            } catch (QueueException e) {
                channel.error(id, e.code(), e.getMessage());
            }
        }
    }

    /** kind 1: nack with delay, 2: reject. */
    private void settle(int id, long token, int kind, int delayMillis) {
        BrokerConsumer c = consumers.get(id);
        if (c == null) {
            staleConsumer(id, token);
            return;
        }
        if (kind == 1) {
            engine.nack(c.queue, token, delayMillis);
        } else {
            engine.reject(c.queue, token);
        }
    }

    private void staleConsumer(int id, long token) {
        channel.error(id, ErrorCode.STALE_DELIVERY, "delivery token " + token + " is stale: consumer " + id
                + " is not attached on this connection (cancelled, or its queue was deleted)");
    }

    /** Loop: writes one DELIVER; with auto-ack, settles it at once. */
    void writeDeliver(BrokerConsumer c, Delivery d) {
        if (closed || !channel.isOpen()) {
            return;
        }
        byte[] subject = subjectBytes(d.subject());
        DeadLetter dead = d.deadLetter();
        byte[] origin = dead == null ? null : dead.originQueue().getBytes(StandardCharsets.UTF_8);
        int frameBytes = Frame.BODY_OFFSET + 20 + (origin == null ? 0 : 2 + origin.length + 5) + 2 + subject.length
                + d.headers().length + d.payload().length;
        int flags = (d.headers().length > 0 ? Flags.HEADERS : 0) | (dead != null ? Flags.DEAD_LETTER : 0);
        ByteBuf b = channel.buffer(frameBytes);
        b.writeInt(frameBytes - Frame.PREFIX_BYTES).writeByte(FrameType.DELIVER.code()).writeByte(flags).writeShort(0)
                .writeInt(c.id).writeLong(d.token()).writeLong(d.offset()).writeInt(d.deliveryCount());
        if (origin != null) {
            b.writeShort(origin.length).writeBytes(origin).writeByte(dead.reason().code()).writeInt(dead.deliveryCount());
        }
        b.writeShort(subject.length).writeBytes(subject).writeBytes(d.headers()).writeBytes(d.payload());
        channel.written();
        if (c.autoAck) {
            try {
                engine.ack(c.queue, d.token());
            } catch (QueueException e) {
                log.debug("auto-ack of token {} on {} refused: {}", d.token(), c.queue, e.getMessage());
            }
        }
    }

    /** UTF-8 of a delivery's subject, cached for the last one (a queue fed by SENDs repeats its own name). */
    private byte[] subjectBytes(String subject) {
        if (!subject.equals(lastSubject)) {
            lastSubject = subject;
            lastSubjectBytes = subject.getBytes(StandardCharsets.UTF_8);
        }
        return lastSubjectBytes;
    }

    /** Loop: the socket drained; resume consumers the engine paused. */
    public void onWritable() {
        if (closed) {
            return;
        }
        for (BrokerConsumer c : new ArrayList<>(consumers.values())) {
            resumeIfPaused(c);
        }
    }

    void resumeIfPaused(BrokerConsumer c) {
        if (c.needsResume && c.ready && !c.cancelled && !closed && channel.isWritable()) {
            c.needsResume = false;
            try {
                engine.resume(c.queue, c.engineId);
            } catch (QueueException e) {
                log.debug("resume of consumer {} on {}: {}", c.id, c.queue, e.getMessage());
            }
        }
    }

    /** Runs task on the connection's loop (dropped when the loop is shutting down). */
    void execute(Runnable task) {
        try {
            channel.loop().execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("{}: event loop shut down, queue work dropped", channel.describe());
        }
    }

    /**
     * Loop: the connection is closing. Its consumers are detached, so their unacknowledged deliveries are
     * redelivered (to other consumers) now rather than after the ack timeout. Idempotent.
     */
    public void close() {
        if (closed) {
            return;
        }
        // SENDs read before the connection closed are published, as they would have been one by one.
        flushSends();
        closed = true;
        List<BrokerConsumer> all = new ArrayList<>(consumers.values());
        consumers.clear();
        for (BrokerConsumer c : all) {
            c.cancelled = true;
        }
        for (BrokerConsumer c : all) {
            try {
                detach(c);
            } catch (RuntimeException e) {
                log.debug("detaching consumer {} of {}: {}", c.id, channel.describe(), e.toString());
            }
        }
        if (!all.isEmpty()) {
            // Requeued deliveries may have been written to other connections on this loop, outside a read burst.
            channel.flush();
        }
    }

    // ---- output helpers -----------------------------------------------------------------------------------

    private void writeHeaderOnly(FrameType type, int id) {
        channel.buffer(Frame.BODY_OFFSET).writeInt(Frame.HEADER_BYTES).writeByte(type.code()).writeByte(0)
                .writeShort(0).writeInt(id);
        channel.written();
    }

    private void writeCount(int id, long count) {
        writeFrame(new Frame.Count(id, count));
    }

    private void writeFrame(Frame frame) {
        ByteBuffer encoded = Frames.encode(frame);
        channel.buffer(encoded.remaining()).writeBytes(encoded);
        channel.written();
    }
}
