package tern.queue;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import tern.protocol.ErrorCode;
import tern.storage.StorageException;

/**
 * One queue: its messages, consumers, timers and (when durable) its message log and settlement log. Every method
 * runs with this object's monitor held ({@code synchronized (queue)}), taken by {@link QueueEngine}; the only
 * exceptions are the {@code volatile} failure flag and the copy-on-write bindings, read by any thread.
 */
final class QueueState {
    /** How soon buffered settlement records are written and acked segments deleted. */
    static final long HOUSEKEEPING_INTERVAL_MILLIS = 50;
    private static final byte[] NONE = new byte[0];

    final QueueEngine engine;
    final String name;
    final QueueOptions options;
    final CopyOnWriteArrayList<SubjectPattern> bindings = new CopyOnWriteArrayList<>();
    private final MessageLog log;
    private final SettlementLog settlements;
    private final boolean fsynced;

    /** Durable only: every unsettled message plus settled ones behind the oldest unsettled, in offset order. */
    private final ArrayDeque<QueuedMessage> live = new ArrayDeque<>();
    private final ArrayDeque<QueuedMessage> ready = new ArrayDeque<>();
    private final ArrayDeque<QueuedMessage> redeliver = new ArrayDeque<>();
    private final PriorityQueue<QueuedMessage> delayed =
            new PriorityQueue<>(Comparator.comparingLong((QueuedMessage m) -> m.dueAtMillis)
                    .thenComparingLong(m -> m.offset));
    /** Delivery order; the ack timeout is fixed per queue, so deadlines ascend. */
    private final LinkedHashMap<Long, QueuedMessage> unacked = new LinkedHashMap<>();
    private final ArrayList<ConsumerState> consumers = new ArrayList<>();
    private final ArrayList<QueuedMessage> outbox = new ArrayList<>();
    private int nextConsumer;
    /** Batch indexes of the messages in one log write. */
    private int[] chunk = new int[16];

    private long depth;
    private long depthBytes;
    /** This queue's share of the engine's memory budget: {@link #memoryCost} of every unsettled message. */
    private long memoryBytes;
    private long nextTransientOffset;
    private long lowWatermark;
    /**
     * The first offset recovery could not read (a damaged record in a sealed segment), or Long.MAX_VALUE. The low
     * watermark never passes it, so that message and those after it stay unsettled in the logs for a later recovery.
     */
    private long unreadableFrom = Long.MAX_VALUE;
    /** What the settlement log knew at recovery about offsets from unreadableFrom on; every checkpoint keeps it. */
    private SettlementLog.Recovered beyondDamage;
    private long deletedBefore;
    long lastUsedMillis;
    volatile String failure;
    /**
     * Why the recovery checkpoint could not be written at open (disk full), or null. While set, housekeeping
     * retries it and publishes are refused with DISK_FULL (see {@link #recover}).
     */
    private String deferredCheckpoint;
    boolean closed;
    boolean expiredQueue;
    private boolean dispatching;
    private boolean dispatchAgain;

    private SlowWork slow;
    private QueueScheduler.Cancellable timer;
    private long timerAtMillis = Long.MAX_VALUE;

    private long published;
    private long delivered;
    private long redelivered;
    private long acked;
    private long deadLettered;
    private long expired;
    private long dropped;

    QueueState(QueueEngine engine, String name, QueueOptions options, MessageLog log, SettlementLog settlements) {
        this.engine = engine;
        this.name = name;
        this.options = options;
        this.log = log;
        this.settlements = settlements;
        this.fsynced = options.durable() && options.durability() == Durability.FSYNC_BEFORE_CONFIRM;
        this.lastUsedMillis = engine.now();
    }

    boolean durable() {
        return log != null;
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Rebuilds the queue from its logs (durable only), then checkpoints so the settlement log matches the log.
     * When that checkpoint fails and {@code mayDefer} (an existing queue at engine open), the recovered state is
     * kept and the checkpoint is retried by housekeeping; until it is written the queue appends nothing.
     */
    void recover(SettlementLog.Recovered r, boolean mayDefer) throws IOException {
        long end = log.endOffset();
        long from = Math.max(r.lowWatermark, log.startOffset());
        for (long o = from; o < end; o++) {
            if (r.settled.contains(o)) {
                if (!live.isEmpty()) {
                    // Behind an unsettled message: keep the fact for the next checkpoint, without the payload.
                    QueuedMessage placeholder = new QueuedMessage(o, 0, "", NONE, NONE, null, 0);
                    placeholder.state = QueuedMessage.SETTLED;
                    placeholder.headers = null;
                    placeholder.payload = null;
                    live.addLast(placeholder);
                    engine.holdMemory(QueueLimits.SETTLED_ENTRY_BYTES);
                    memoryBytes += QueueLimits.SETTLED_ENTRY_BYTES;
                }
                continue;
            }
            Integer count = r.deliveryCounts.get(o);
            QueuedMessage m;
            try {
                m = MessageCodec.decode(log.read(o), count == null ? 0 : count);
            } catch (RuntimeException e) {
                // Damage the open did not scan for (docs/storage.md, "What is not checked at open"): this queue
                // serves what it read before it and fails; the engine, the broker and the other queues go on.
                readFailed(o, e);
                unreadableFrom = o;
                beyondDamage = r.from(o);
                break;
            }
            if (!engine.keepsInMemory(memoryCost(m.bytes, m.subject))) {
                m = new QueuedMessage(m.offset, m.publishedAtMillis, m.subject, m.bytes, m.deadLetter,
                        m.deliveryCount);
            }
            // Confirmed messages are served whatever the budget holds; publishes wait until it has room again.
            long cost = memoryCost(m);
            engine.holdMemory(cost);
            memoryBytes += cost;
            live.addLast(m);
            ready.addLast(m);
            depth++;
            depthBytes += m.bytes;
        }
        lowWatermark = lowWatermarkNow();
        // A checkpoint now also drops settlement records for offsets a crash cut from the log's tail, before
        // appends reuse those offsets. If it cannot be written (disk full), appending would be unsafe: a new message
        // at such an offset would inherit an old SETTLED record at the next recovery, a confirmed message lost. So
        // the queue serves what it recovered (acks stay buffered: the settlement log has no current file until a
        // checkpoint) and refuses publishes with DISK_FULL until housekeeping has written the checkpoint.
        try {
            checkpoint();
        } catch (IOException e) {
            if (!mayDefer) {
                throw e;
            }
            deferredCheckpoint = e.toString();
            engine.reportCheckpointDeferred(this, e);
        }
    }

    /** Arms the first timer (queue expiry) of a new or recovered queue. */
    void start() {
        armTimer(nextDeadline(engine.now()));
    }

    // ---------------------------------------------------------------- publish

    /**
     * Accepts the batch's messages in order, refusing each one that does not fit (QUEUE_FULL) and the rest when the
     * queue cannot be written; appends the accepted ones in as few log writes as {@link RecordEncoder#CHUNK_BYTES}
     * allows and
     * registers one durability wait for all of them.
     */
    void publish(PublishBatch b) {
        try {
            checkWritable();
        } catch (QueueException e) {
            b.refuseFrom(0, e);
            return;
        }
        long now = engine.now();
        lastUsedMillis = now;
        boolean dropHead = options.overflow() == Overflow.DROP_HEAD;
        long lastOffset = -1;
        int n = b.size();
        int i = 0;
        while (i < n) {
            // One chunk: the messages that fit in one appendBatch.
            int count = 0;
            long addBytes = 0;
            long addMemory = 0;
            RecordEncoder enc = log == null ? null : RecordEncoder.get();
            for (; i < n; i++) {
                if (b.refusal(i) != null) {
                    continue;
                }
                int bytes = b.headers(i).length + b.payload(i).length;
                if (options.maxLengthBytes() > 0 && bytes > options.maxLengthBytes()) {
                    b.refuse(i, new QueueException(ErrorCode.QUEUE_FULL, "queue '" + name + "': message of " + bytes
                            + " bytes > maxLengthBytes " + options.maxLengthBytes()));
                    continue;
                }
                if (!dropHead && overLength(count + 1, addBytes + bytes)) {
                    b.refuse(i, new QueueException(ErrorCode.QUEUE_FULL, "queue '" + name + "' is full: "
                            + (depth + count) + " messages, " + (depthBytes + addBytes) + " bytes; maxLengthMessages "
                            + options.maxLengthMessages() + ", maxLengthBytes " + options.maxLengthBytes()
                            + ", overflow REJECT_PUBLISH"));
                    continue;
                }
                int need = 0;
                if (enc != null) {
                    need = RecordEncoder.maxEncodedBytes(b.subject(i), b.headers(i), b.deadLetter(i),
                            b.payload(i));
                    if (!enc.fits(need, engine.segmentBytes())) {
                        break;
                    }
                }
                long cost = memoryCost(bytes, b.subject(i));
                boolean onDiskOnly = log != null && !engine.keepsInMemory(cost);
                if (onDiskOnly) {
                    cost = memoryCost(0, b.subject(i));
                }
                if (b.isTransfer()) {
                    engine.holdMemory(cost);
                } else {
                    try {
                        engine.reserveMemory(name, cost);
                    } catch (QueueException e) {
                        b.refuse(i, e);
                        continue;
                    }
                }
                if (enc != null) {
                    enc.add(b.subject(i), b.headers(i), b.deadLetter(i), b.payload(i), need);
                }
                chunk = growTo(chunk, count + 1);
                // A message kept on disk only is marked by a negative index (~i).
                chunk[count++] = onDiskOnly ? ~i : i;
                addBytes += bytes;
                addMemory += cost;
            }
            if (count == 0) {
                break;
            }
            long first;
            if (log != null) {
                try {
                    first = log.appendBatch(enc.views(), count, now);
                } catch (StorageException e) {
                    // Nothing of this chunk was appended: refuse it and everything after it.
                    engine.releaseMemory(addMemory);
                    b.refuseFrom(index(chunk[0]), storageFailure(e));
                    break;
                }
            } else {
                first = nextTransientOffset;
                nextTransientOffset += count;
            }
            for (int k = 0; k < count; k++) {
                int idx = index(chunk[k]);
                QueuedMessage m = chunk[k] >= 0
                        ? new QueuedMessage(first + k, now, b.subject(idx), b.headers(idx), b.payload(idx),
                                b.deadLetter(idx), 0)
                        : new QueuedMessage(first + k, now, b.subject(idx),
                                b.headers(idx).length + b.payload(idx).length, b.deadLetter(idx), 0);
                b.accept(idx, m.offset);
                if (log != null) {
                    live.addLast(m);
                }
                if (dropHead) {
                    while (overLength(1, m.bytes) && dropOldestReady()) {
                        dropped++;
                    }
                }
                ready.addLast(m);
                depth++;
                depthBytes += m.bytes;
            }
            memoryBytes += addMemory;
            published += count;
            lastOffset = first + count - 1;
        }
        if (lastOffset < 0) {
            return;
        }
        if (options.messageTtlMillis() > 0) {
            armTimer(now + options.messageTtlMillis());
        }
        if (log == null) {
            b.durable(false);
        } else {
            log.whenDurable(lastOffset, (o, f) -> {
                if (f == null) {
                    b.durable(fsynced);
                } else {
                    b.failed(storageFailure(f));
                }
            });
        }
        dispatch();
    }

    /** What a message of bytes (headers + payload; 0 when kept on disk only) counts against maxMemoryBytes. */
    static long memoryCost(int bytes, String subject) {
        return (long) bytes + subject.length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
    }

    /** Entries a checkpoint writes: the live messages, and what is kept past a damaged record. */
    private long checkpointEntries() {
        return live.size() + (beyondDamage == null ? 0
                : beyondDamage.settled.size() + beyondDamage.deliveryCounts.size());
    }

    /** Every offset below it is settled: the oldest live message's, else the log's end (never past damage). */
    private long lowWatermarkNow() {
        return Math.min(unreadableFrom, live.isEmpty() ? log.endOffset() : live.peekFirst().offset);
    }

    /** Returns bytes of this queue's share to the engine; a closed queue gave its whole share back at close. */
    private void giveBack(long bytes) {
        if (!closed) {
            memoryBytes -= bytes;
            engine.releaseMemory(bytes);
        }
    }

    /** What m counts now: its headers and payload only while they are in memory. */
    private static long memoryCost(QueuedMessage m) {
        return memoryCost(m.payload == null ? 0 : m.bytes, m.subject);
    }

    private static int index(int chunkEntry) {
        return chunkEntry >= 0 ? chunkEntry : ~chunkEntry;
    }

    /**
     * Reads the record of a message kept on disk only (any thread: the log's reads are thread-safe, and an
     * unsettled message's record is never deleted). Throws when it cannot be read or does not match.
     */
    QueuedMessage readBack(QueuedMessage m) {
        QueuedMessage read = MessageCodec.decode(log.read(m.offset), m.deliveryCount);
        if (read.bytes != m.bytes) {
            throw new IllegalStateException("message at offset " + m.offset + " has " + read.bytes
                    + " bytes of headers and payload in the log, " + m.bytes + " when appended");
        }
        return read;
    }

    /** A message's record could not be read back: the queue fails like after a failed fsync (once). */
    void readFailed(long offset, RuntimeException e) {
        if (failure == null && !closed) { // a deleted or closed queue's log fails reads for that reason
            failure = "message at offset " + offset + " could not be read back from the log (" + e
                    + "): the queue accepts no writes and delivers nothing past it";
            engine.reportReadFailure(this, offset, e);
        }
    }

    /**
     * Reads a message kept on disk only back into memory for a delivery, charging its bytes to the budget until
     * {@link #unload}. False when the read failed: the queue is then failed and the message stays.
     */
    private boolean load(QueuedMessage m) {
        if (m.payload != null) {
            return true;
        }
        QueuedMessage read;
        try {
            read = readBack(m);
        } catch (RuntimeException e) {
            readFailed(m.offset, e);
            return false;
        }
        m.headers = read.headers;
        m.payload = read.payload;
        engine.holdMemory(m.bytes);
        memoryBytes += m.bytes;
        return true;
    }

    /**
     * After its delivery, a message read back is kept on disk only again: the delivery carries the bytes to the
     * consumer, and a redelivery or a move reads them again. So unacked deliveries never hold a backlog's payloads.
     */
    private void unload(QueuedMessage m) {
        if (m.payload != null && m.state != QueuedMessage.SETTLED) {
            m.headers = null;
            m.payload = null;
            giveBack(m.bytes);
        }
    }

    private boolean overLength(int addMessages, long addBytes) {
        return options.maxLengthMessages() > 0 && depth + addMessages > options.maxLengthMessages()
                || options.maxLengthBytes() > 0 && depthBytes + addBytes > options.maxLengthBytes();
    }

    private static int[] growTo(int[] a, int n) {
        return a.length >= n ? a : Arrays.copyOf(a, Math.max(n, a.length * 2));
    }

    /** Maps a storage failure to the queue's error; a fatal one stops the queue accepting writes. */
    QueueException storageFailure(StorageException e) {
        if (e.reason() == StorageException.Reason.DISK_FULL && !e.fatal()) {
            return new QueueException(ErrorCode.DISK_FULL, "queue '" + name + "': disk full, publish refused: "
                    + e.getMessage(), e);
        }
        if (e.fatal() || e.reason() == StorageException.Reason.SYNC_FAILED) {
            if (failure == null) {
                failure = "storage failed (" + e.reason() + "), queue accepts no writes until restarted: "
                        + e.getMessage();
            }
            return new QueueException(ErrorCode.STORAGE_FAILED, "queue '" + name + "': " + failure, e);
        }
        return new QueueException(ErrorCode.STORAGE_FAILED, "queue '" + name + "': " + e.getMessage(), e);
    }

    private void checkWritable() {
        if (closed) {
            throw new QueueException(ErrorCode.QUEUE_NOT_FOUND, "queue '" + name + "' was deleted");
        }
        String f = failure;
        if (f == null && log != null && log.isFailed()) {
            f = failure = "storage failed, queue accepts no writes until restarted";
        }
        if (f != null) {
            throw new QueueException(ErrorCode.STORAGE_FAILED, "queue '" + name + "': " + f);
        }
        if (deferredCheckpoint != null) {
            throw new QueueException(ErrorCode.DISK_FULL, "queue '" + name + "': disk full: "
                    + deferredCheckpointText(deferredCheckpoint));
        }
    }

    private boolean dropOldestReady() {
        QueuedMessage m = redeliver.pollFirst();
        if (m == null) {
            m = ready.pollFirst();
        }
        if (m == null) {
            return false;
        }
        takeFromDepth(m);
        settle(m);
        return true;
    }

    // ---------------------------------------------------------------- consumers and dispatch

    long subscribe(int prefetch, Consumer consumer) {
        checkOpen();
        if (consumers.size() >= engine.limits().maxConsumersPerQueue()) {
            throw new QueueException(ErrorCode.QUEUE_LIMIT, "queue '" + name + "' has " + consumers.size()
                    + " consumers, max " + engine.limits().maxConsumersPerQueue());
        }
        if (prefetch < 1 || prefetch > engine.limits().maxPrefetch()) {
            throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "prefetch " + prefetch + " outside 1.."
                    + engine.limits().maxPrefetch());
        }
        ConsumerState c = new ConsumerState(engine.nextConsumerId(), prefetch, consumer);
        consumers.add(c);
        lastUsedMillis = engine.now();
        dispatch();
        return c.id;
    }

    /** Removes a consumer; its unacked deliveries are requeued (counting toward max deliveries). */
    boolean unsubscribe(long consumerId) {
        ConsumerState c = consumer(consumerId);
        if (c == null) {
            return false;
        }
        consumers.remove(c);
        lastUsedMillis = engine.now();
        List<QueuedMessage> back = new ArrayList<>();
        for (Iterator<QueuedMessage> it = unacked.values().iterator(); it.hasNext(); ) {
            QueuedMessage m = it.next();
            if (m.consumer == c) {
                it.remove();
                back.add(m);
            }
        }
        withoutDispatch(() -> back.forEach(m -> {
            release(m);
            requeue(m, 0);
        }));
        dispatch();
        if (options.expiryMillis() > 0) {
            armTimer(engine.now() + options.expiryMillis());
        }
        return true;
    }

    void resume(long consumerId) {
        ConsumerState c = consumer(consumerId);
        if (c != null) {
            c.paused = false;
            dispatch();
        }
    }

    private ConsumerState consumer(long id) {
        for (ConsumerState c : consumers) {
            if (c.id == id) {
                return c;
            }
        }
        return null;
    }

    private void withoutDispatch(Runnable r) {
        boolean was = dispatching;
        dispatching = true;
        try {
            r.run();
        } finally {
            dispatching = was;
        }
    }

    void dispatch() {
        if (dispatching) {
            dispatchAgain = true;
            return;
        }
        dispatching = true;
        try {
            do {
                dispatchAgain = false;
                dispatchOnce();
            } while (dispatchAgain);
        } finally {
            dispatching = false;
        }
    }

    private void dispatchOnce() {
        if (!engine.tokensIssuable()) {
            // The engine's generation is not durable yet: issuing tokens now could repeat them after a restart.
            return;
        }
        long now = engine.now();
        while (!redeliver.isEmpty() || !ready.isEmpty()) {
            ConsumerState c = nextConsumerWithCredit();
            if (c == null) {
                return;
            }
            ArrayDeque<QueuedMessage> from = redeliver.isEmpty() ? ready : redeliver;
            QueuedMessage head = from.peekFirst();
            // A message kept on disk only is read back for its delivery alone (expired ones are not read at all).
            boolean readBack = head.payload == null && !isExpired(head, now);
            if (readBack && !load(head)) {
                return; // unreadable: nothing past it is delivered (failure says why)
            }
            QueuedMessage m = from.pollFirst();
            takeFromDepth(m);
            if (isExpired(m, now)) {
                deadLetter(m, DeadLetterReason.EXPIRED);
                continue;
            }
            try {
                deliver(c, m, now);
            } finally {
                if (readBack) {
                    unload(m);
                }
            }
        }
    }

    private ConsumerState nextConsumerWithCredit() {
        int n = consumers.size();
        for (int i = 0; i < n; i++) {
            int k = (nextConsumer + i) % n;
            ConsumerState c = consumers.get(k);
            if (!c.paused && (options.noAck() || c.unacked < c.prefetch)) {
                nextConsumer = (k + 1) % n;
                return c;
            }
        }
        return null;
    }

    private void deliver(ConsumerState c, QueuedMessage m, long now) {
        m.deliveryCount++;
        long token = engine.nextToken();
        m.token = token;
        m.state = QueuedMessage.UNACKED;
        m.consumer = options.noAck() ? null : c;
        m.deadlineMillis = options.ackTimeoutMillis() > 0 ? now + options.ackTimeoutMillis() : Long.MAX_VALUE;
        if (!options.noAck()) {
            unacked.put(token, m);
            c.unacked++;
        }
        Delivery d = new Delivery(name, c.id, token, m.offset, m.deliveryCount, m.publishedAtMillis, m.subject,
                m.headers, m.payload, m.deadLetter);
        boolean taken = false;
        try {
            taken = c.consumer.deliver(d);
        } finally {
            if (!taken && m.state == QueuedMessage.UNACKED && m.token == token) {
                // Not taken (or deliver threw): the message goes back to the head, uncounted.
                if (!options.noAck()) {
                    unacked.remove(token);
                }
                release(m);
                m.deliveryCount--;
                m.state = QueuedMessage.READY;
                redeliver.addFirst(m);
                depth++;
                depthBytes += m.bytes;
                c.paused = true;
            }
        }
        if (!taken) {
            return;
        }
        delivered++;
        if (m.deliveryCount > 1) {
            redelivered++;
        }
        if (options.noAck()) {
            if (m.state == QueuedMessage.UNACKED && m.token == token) {
                m.consumer = null;
                acked++;
                settle(m);
            }
            return;
        }
        if (settlements != null && m.state == QueuedMessage.UNACKED) {
            settlements.delivered(m.offset, m.deliveryCount);
            armTimer(now + HOUSEKEEPING_INTERVAL_MILLIS);
        }
        if (m.deadlineMillis != Long.MAX_VALUE) {
            armTimer(m.deadlineMillis);
        }
    }

    private void release(QueuedMessage m) {
        if (m.consumer != null) {
            m.consumer.unacked--;
            m.consumer = null;
        }
    }

    private void takeFromDepth(QueuedMessage m) {
        depth--;
        depthBytes -= m.bytes;
    }

    private boolean isExpired(QueuedMessage m, long now) {
        return options.messageTtlMillis() > 0 && now - m.publishedAtMillis >= options.messageTtlMillis();
    }

    // ---------------------------------------------------------------- settlement

    private QueuedMessage takeUnacked(long token) {
        QueuedMessage m = unacked.remove(token);
        if (m == null) {
            if (engine.wasIssued(token)) {
                throw new QueueException(ErrorCode.STALE_DELIVERY, "queue '" + name + "': delivery token " + token
                        + " is stale: that delivery timed out and was redelivered, or was already settled");
            }
            throw new QueueException(ErrorCode.UNKNOWN_DELIVERY, "queue '" + name + "': delivery token " + token
                    + " was never issued");
        }
        release(m);
        return m;
    }

    void ack(long token) {
        QueuedMessage m = takeUnacked(token);
        acked++;
        settle(m);
        dispatch();
    }

    void nack(long token, long delayMillis) {
        if (delayMillis < 0 || delayMillis > engine.limits().maxNackDelayMillis()) {
            throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "nack delay " + delayMillis + " ms outside 0.."
                    + engine.limits().maxNackDelayMillis());
        }
        QueuedMessage m = takeUnacked(token);
        requeue(m, delayMillis);
        dispatch();
    }

    void reject(long token) {
        QueuedMessage m = takeUnacked(token);
        deadLetter(m, DeadLetterReason.REJECTED);
        dispatch();
    }

    /** Puts a taken-back delivery back in line, or dead-letters it when expired or over max deliveries. */
    private void requeue(QueuedMessage m, long delayMillis) {
        long now = engine.now();
        if (isExpired(m, now)) {
            deadLetter(m, DeadLetterReason.EXPIRED);
        } else if (options.maxDeliveries() > 0 && m.deliveryCount >= options.maxDeliveries()) {
            deadLetter(m, DeadLetterReason.MAX_DELIVERIES);
        } else if (delayMillis > 0) {
            m.state = QueuedMessage.DELAYED;
            m.dueAtMillis = now + delayMillis;
            delayed.add(m);
            depth++;
            depthBytes += m.bytes;
            armTimer(m.dueAtMillis);
        } else {
            m.state = QueuedMessage.READY;
            redeliver.addLast(m);
            depth++;
            depthBytes += m.bytes;
        }
    }

    private void deadLetter(QueuedMessage m, DeadLetterReason reason) {
        deadLettered++;
        if (reason == DeadLetterReason.EXPIRED) {
            expired++;
        }
        if (options.deadLetterQueue() == null) {
            settle(m);
        } else {
            m.state = QueuedMessage.TRANSFER;
            m.deathReason = reason;
            outbox.add(m);
        }
    }

    /** Messages handed to another queue since the last call; the engine sends them after releasing the lock. */
    List<QueuedMessage> takeOutbox() {
        if (outbox.isEmpty()) {
            return List.of();
        }
        List<QueuedMessage> out = new ArrayList<>(outbox);
        outbox.clear();
        return out;
    }

    /** The other queue confirmed its copy: settle ours. */
    void settleTransferred(QueuedMessage m) {
        if (m.state == QueuedMessage.TRANSFER && !closed) {
            settle(m);
        }
    }

    /** The other queue refused a redriven copy: the message goes back in line here. */
    void untransfer(QueuedMessage m) {
        if (m.state == QueuedMessage.TRANSFER && !closed) {
            m.state = QueuedMessage.READY;
            redeliver.addLast(m);
            depth++;
            depthBytes += m.bytes;
            dispatch();
        }
    }

    private void settle(QueuedMessage m) {
        long released = memoryCost(m);
        m.state = QueuedMessage.SETTLED;
        m.payload = null;
        m.headers = null;
        if (log == null) {
            giveBack(released);
            return;
        }
        // A durable queue's message stays in live as a settled entry until everything before it is settled; one
        // give-back covers it and the entries it frees (one atomic add per ack).
        released -= QueueLimits.SETTLED_ENTRY_BYTES;
        settlements.settled(m.offset);
        while (!live.isEmpty() && live.peekFirst().state == QueuedMessage.SETTLED) {
            live.pollFirst();
            released += QueueLimits.SETTLED_ENTRY_BYTES;
        }
        giveBack(released);
        lowWatermark = lowWatermarkNow();
        armTimer(engine.now() + HOUSEKEEPING_INTERVAL_MILLIS);
    }

    /** Removes every ready and delayed message (not unacked ones); returns how many. */
    long purge() {
        checkOpen();
        long n = 0;
        for (ArrayDeque<QueuedMessage> d : List.of(redeliver, ready)) {
            for (QueuedMessage m; (m = d.pollFirst()) != null; n++) {
                takeFromDepth(m);
                settle(m);
            }
        }
        for (QueuedMessage m; (m = delayed.poll()) != null; n++) {
            takeFromDepth(m);
            settle(m);
        }
        dropped += n;
        return n;
    }

    /** Takes every ready or delayed dead letter out of line for a redrive; they are in TRANSFER afterwards. */
    List<QueuedMessage> takeForRedrive() {
        checkOpen();
        List<QueuedMessage> out = new ArrayList<>();
        for (ArrayDeque<QueuedMessage> d : List.of(redeliver, ready)) {
            for (Iterator<QueuedMessage> it = d.iterator(); it.hasNext(); ) {
                QueuedMessage m = it.next();
                if (m.deadLetter != null) {
                    it.remove();
                    out.add(m);
                }
            }
        }
        for (Iterator<QueuedMessage> it = delayed.iterator(); it.hasNext(); ) {
            QueuedMessage m = it.next();
            if (m.deadLetter != null) {
                it.remove();
                out.add(m);
            }
        }
        out.sort(Comparator.comparingLong(m -> m.offset));
        for (QueuedMessage m : out) {
            takeFromDepth(m);
            m.state = QueuedMessage.TRANSFER;
        }
        return out;
    }

    private void checkOpen() {
        if (closed) {
            throw new QueueException(ErrorCode.QUEUE_NOT_FOUND, "queue '" + name + "' was deleted");
        }
    }

    // ---------------------------------------------------------------- timers

    private void armTimer(long atMillis) {
        if (closed || atMillis >= timerAtMillis) {
            return;
        }
        if (timer != null) {
            timer.cancel();
        }
        timerAtMillis = atMillis;
        timer = engine.scheduler().schedule(Math.max(0, atMillis - engine.now()), () -> engine.onTimer(this));
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        timerAtMillis = Long.MAX_VALUE;
    }

    /** Runs everything due: ack timeouts, nack delays, TTL, queue expiry, housekeeping; then re-arms. */
    void onTimer() {
        timer = null;
        timerAtMillis = Long.MAX_VALUE;
        if (closed) {
            return;
        }
        long now = engine.now();
        withoutDispatch(() -> {
            List<QueuedMessage> due = new ArrayList<>();
            for (Iterator<QueuedMessage> it = unacked.values().iterator(); it.hasNext(); ) {
                QueuedMessage m = it.next();
                if (m.deadlineMillis > now) {
                    break;
                }
                it.remove();
                due.add(m);
            }
            for (QueuedMessage m : due) {
                release(m);
                requeue(m, 0);
            }
            while (!delayed.isEmpty() && delayed.peek().dueAtMillis <= now) {
                QueuedMessage m = delayed.poll();
                takeFromDepth(m);
                requeue(m, 0);
            }
            if (options.messageTtlMillis() > 0) {
                for (Iterator<QueuedMessage> it = redeliver.iterator(); it.hasNext(); ) {
                    QueuedMessage m = it.next();
                    if (isExpired(m, now)) {
                        it.remove();
                        takeFromDepth(m);
                        deadLetter(m, DeadLetterReason.EXPIRED);
                    }
                }
                while (!ready.isEmpty() && isExpired(ready.peekFirst(), now)) {
                    QueuedMessage m = ready.pollFirst();
                    takeFromDepth(m);
                    deadLetter(m, DeadLetterReason.EXPIRED);
                }
            }
        });
        dispatch();
        housekeeping();
        if (options.expiryMillis() > 0 && consumers.isEmpty() && failure == null
                && now - lastUsedMillis >= options.expiryMillis()) {
            expiredQueue = true;
            return;
        }
        armTimer(nextDeadline(now));
    }

    private long nextDeadline(long now) {
        long at = Long.MAX_VALUE;
        if (!unacked.isEmpty()) {
            at = Math.min(at, unacked.values().iterator().next().deadlineMillis);
        }
        if (!delayed.isEmpty()) {
            at = Math.min(at, delayed.peek().dueAtMillis);
        }
        if (options.messageTtlMillis() > 0) {
            for (QueuedMessage m : redeliver) {
                at = Math.min(at, m.publishedAtMillis + options.messageTtlMillis());
            }
            if (!ready.isEmpty()) {
                at = Math.min(at, ready.peekFirst().publishedAtMillis + options.messageTtlMillis());
            }
        }
        if (options.expiryMillis() > 0 && consumers.isEmpty() && failure == null) {
            at = Math.min(at, lastUsedMillis + options.expiryMillis()); // a failed queue does not expire (onTimer)
        }
        if (settlements != null && (settlements.hasBuffered() || lowWatermark > deletedBefore
                || settlements.unsynced() != null || deferredCheckpoint != null)) {
            at = Math.min(at, now + HOUSEKEEPING_INTERVAL_MILLIS);
        }
        return at;
    }

    /**
     * The slow half of a housekeeping run, done by {@link #runSlowWork} after the queue's lock is released so that
     * publishes and acks never wait for it: unlinking settled segments (each followed by a directory fsync) and the
     * fsyncs of a sealed checkpoint.
     */
    record SlowWork(long deleteBefore, long previousDeletedBefore, SettlementLog.Checkpoint checkpoint) {
    }

    /**
     * Writes buffered settlement records and, when due, seals a checkpoint; leaves segment deletion and the
     * checkpoint's fsyncs to {@link #runSlowWork} (see {@link #takeSlowWork}).
     */
    void housekeeping() {
        if (log == null) {
            return;
        }
        long deleteBefore = -1;
        long previous = deletedBefore;
        SettlementLog.Checkpoint cp = null;
        try {
            settlements.flush();
            if (lowWatermark > deletedBefore) {
                deleteBefore = lowWatermark;
                deletedBefore = lowWatermark;
            }
            cp = settlements.unsynced(); // a sync that failed last time is retried
            if (cp == null && deferredCheckpoint == null && settlements.checkpointDue(checkpointEntries())) {
                cp = sealCheckpoint();
            }
        } catch (IOException | StorageException e) {
            // Retried at the next housekeeping; acks stay buffered meanwhile (docs/queues.md, "Failures").
            engine.reportHousekeepingFailure(this, e);
        }
        if (deferredCheckpoint != null) {
            // Rare (a start on a full disk): written whole, fsyncs included, under the lock.
            try {
                checkpoint();
                deferredCheckpoint = null;
                engine.reportCheckpointRetry(this, null, true);
            } catch (IOException e) {
                engine.reportCheckpointRetry(this, e, false);
            }
        }
        if (deleteBefore >= 0 || cp != null) {
            slow = new SlowWork(deleteBefore, previous, cp);
        }
    }

    /** The work the last {@link #housekeeping} left for {@link #runSlowWork}, or null; taken under the lock. */
    SlowWork takeSlowWork() {
        SlowWork w = slow;
        slow = null;
        return w;
    }

    /** Runs deferred housekeeping WITHOUT the queue's lock, then takes it to record the outcome. */
    void runSlowWork(SlowWork d) {
        Exception deleteFailure = null;
        if (d.deleteBefore() >= 0) {
            try {
                log.deleteSegmentsBefore(d.deleteBefore());
            } catch (StorageException e) {
                deleteFailure = e;
            }
        }
        IOException syncFailure = null;
        if (d.checkpoint() != null) {
            try {
                d.checkpoint().sync();
            } catch (IOException e) {
                syncFailure = e;
            }
        }
        synchronized (this) {
            if (closed) {
                return; // failures of a closing queue's files are expected (closed channels)
            }
            if (deleteFailure != null) {
                deletedBefore = Math.min(deletedBefore, d.previousDeletedBefore());
                engine.reportHousekeepingFailure(this, deleteFailure);
            }
            if (d.checkpoint() != null && settlements.unsynced() == d.checkpoint()) {
                try {
                    if (syncFailure != null) {
                        throw syncFailure;
                    }
                    d.checkpoint().finish();
                } catch (IOException e) {
                    engine.reportHousekeepingFailure(this, e);
                }
            }
            if (deleteFailure != null || settlements.unsynced() != null) {
                armTimer(engine.now() + HOUSEKEEPING_INTERVAL_MILLIS);
            }
        }
    }

    /** Writes the live state as a new settlement generation and makes it current, without its fsyncs. */
    private SettlementLog.Checkpoint sealCheckpoint() throws IOException {
        SettlementLog.Checkpoint cp = beginCheckpoint();
        cp.seal();
        return cp;
    }

    /** Writes the live state as a new settlement generation (O(live messages)), fsyncs included. */
    private void checkpoint() throws IOException {
        beginCheckpoint().commit();
    }

    private SettlementLog.Checkpoint beginCheckpoint() throws IOException {
        SettlementLog.Checkpoint cp = settlements.beginCheckpoint(lowWatermark);
        try {
            for (QueuedMessage m : live) {
                if (m.state == QueuedMessage.SETTLED) {
                    cp.settled(m.offset);
                } else if (m.deliveryCount > 0) {
                    cp.delivered(m.offset, m.deliveryCount);
                }
            }
            if (beyondDamage != null) {
                // Not in memory (recovery stopped at the damage) but true on disk: kept for a recovery after repair.
                for (long o : beyondDamage.settled) {
                    cp.settled(o);
                }
                for (var e : beyondDamage.deliveryCounts.entrySet()) {
                    cp.delivered(e.getKey(), e.getValue());
                }
            }
        } catch (IOException e) {
            cp.abort();
            throw e;
        }
        return cp;
    }

    // ---------------------------------------------------------------- close and info

    /** Stops the queue: cancels consumers and timers; on a clean close checkpoints so acks survive. */
    void close(QueueException reason, boolean checkpoint) {
        if (closed) {
            return;
        }
        closed = true;
        engine.releaseMemory(memoryBytes);
        memoryBytes = 0;
        cancelTimer();
        for (ConsumerState c : List.copyOf(consumers)) {
            c.consumer.cancelled(reason);
        }
        consumers.clear();
        if (log != null) {
            try {
                if (checkpoint) {
                    settlements.flush();
                    checkpoint();
                }
            } catch (IOException e) {
                engine.reportHousekeepingFailure(this, e);
            } finally {
                try {
                    settlements.close();
                } catch (IOException e) {
                    engine.reportHousekeepingFailure(this, e);
                }
                try {
                    log.close();
                } catch (StorageException e) {
                    engine.reportHousekeepingFailure(this, e);
                }
            }
        }
    }

    /**
     * What a deferred recovery checkpoint means, for the refusals, {@link QueueInfo#failure()} and the log (one text
     * for all three); cause is the write's error as text.
     */
    static String deferredCheckpointText(String cause) {
        return "recovery checkpoint not written yet (" + cause + "): publishes refused with DISK_FULL until it is"
                + " written (retried every " + HOUSEKEEPING_INTERVAL_MILLIS + " ms)";
    }

    QueueInfo info() {
        String why = failure != null ? failure
                : deferredCheckpoint == null ? null : deferredCheckpointText(deferredCheckpoint);
        return new QueueInfo(name, options, bindings.stream().map(SubjectPattern::pattern).toList(), depth,
                depthBytes, unacked.size(), consumers.size(), published, delivered, redelivered, acked,
                deadLettered, expired, dropped, why, engine.now());
    }

    long lowWatermark() {
        return lowWatermark;
    }

    long logStartOffset() {
        return log == null ? 0 : log.startOffset();
    }
}
