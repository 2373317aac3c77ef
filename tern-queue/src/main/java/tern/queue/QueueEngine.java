package tern.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import tern.protocol.ErrorCode;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;
import tern.protocol.Subjects;
import tern.storage.LogConfig;
import tern.storage.SegmentedLog;
import tern.storage.StorageException;
import tern.storage.SyncPolicy;

/**
 * The queue engine: durable and transient work queues with competing consumers, acks fenced by delivery tokens,
 * dead-lettering, TTLs and group-committed durability (docs/queues.md).
 *
 * <p><b>Threading.</b> One lock per queue (the queue's monitor); any thread may call any method. Engine-wide
 * changes (declare, delete, bind, catalog writes) take one admin lock and then at most one queue lock. No thread
 * ever holds two queue locks: moving a message to another queue (dead letter, redrive) happens after the first
 * lock is released, and the source settles it in a task on the {@link QueueScheduler} once the target confirms.
 * {@link Consumer#deliver} runs under its queue's lock; {@link PublishCallback}s run on the calling thread or on
 * the storage's sync thread.
 *
 * <p><b>Errors.</b> Methods throw {@link QueueException} with a stable {@link ErrorCode}; {@link #publish} instead
 * reports every refusal through its callback, so a broker has one path for publish outcomes.
 */
public final class QueueEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("tern.queue");
    /** Delivery tokens are generation << TOKEN_GENERATION_SHIFT | sequence: 2^44 deliveries per run. */
    static final int TOKEN_GENERATION_SHIFT = 44;
    /** A dead letter refused by its dead-letter queue (full, disk full) is retried after this long. */
    static final long TRANSFER_RETRY_MILLIS = 1000;
    /** Prefix of a deleted queue's directory while its files are freed (queue names never start with '.'). */
    static final String TRASH_PREFIX = ".deleted-";
    /** A catalog write deferred by a full disk (or another I/O error) is retried this often. */
    static final long DEFERRED_WRITE_RETRY_MILLIS = QueueState.HOUSEKEEPING_INTERVAL_MILLIS;
    /** At most one log line per this period about publishes refused for memory. */
    private static final long MEMORY_FULL_LOG_NANOS = 10_000_000_000L;

    private final QueueEngineConfig config;
    private final QueueClock clock;
    private final QueueScheduler scheduler;
    private final ConcurrentHashMap<String, QueueState> queues = new ConcurrentHashMap<>();
    private final Object admin = new Object();
    private final Catalog catalog;
    private final AtomicLong tokens;
    private final AtomicLong consumerIds = new AtomicLong();
    /** What all queues hold in messages, as {@link QueueState#memoryCost} counts it; bounded by maxMemoryBytes. */
    private final AtomicLong memoryBytes = new AtomicLong();
    /** When the last QUEUE_MEMORY_FULL refusal was logged (nanoTime), so a flood of them logs one line per period. */
    private final AtomicLong memoryFullLoggedNanos = new AtomicLong(System.nanoTime() - MEMORY_FULL_LOG_NANOS);
    private final Path queuesDir;
    private volatile boolean closed;
    private volatile Runnable bindingsListener;
    /**
     * Whether this run's generation is on disk (in the catalog or a marker file). Until it is, no delivery token is
     * issued: see {@link #persistGeneration}.
     */
    private volatile boolean generationDurable;
    /** Guarded by admin: the catalog in memory is newer than the file (a write failed); retried on the scheduler. */
    private boolean catalogDeferred;
    /** Guarded by admin: the pending retry of a deferred catalog write, or null. */
    private QueueScheduler.Cancellable catalogRetry;

    private QueueEngine(QueueEngineConfig config, QueueClock clock, QueueScheduler scheduler, Catalog catalog) {
        this.config = config;
        this.clock = clock;
        this.scheduler = scheduler;
        this.catalog = catalog;
        this.tokens = new AtomicLong(catalog.generation << TOKEN_GENERATION_SHIFT);
        this.queuesDir = config.directory().resolve("queues");
    }

    /**
     * Opens the engine on its directory (creating it), recovering every durable queue: unsettled messages come
     * back ready (delivery counts as last recorded), settled ones do not.
     *
     * <p>Opening needs no free space: it only reads the catalog, settlement logs and message logs. The writes it
     * would like to make (the catalog with the new generation, each queue's recovery checkpoint) are deferred when
     * they fail with an I/O error such as ENOSPC, logged as a WARNING, and retried until they succeed; meanwhile a
     * queue whose checkpoint is deferred refuses publishes with DISK_FULL (docs/queues.md, "Failures").
     */
    public static QueueEngine open(QueueEngineConfig config, QueueClock clock, QueueScheduler scheduler) {
        try {
            Files.createDirectories(config.directory().resolve("queues"));
            Catalog catalog = Catalog.read(config.directory());
            boolean catalogFound = Files.exists(config.directory().resolve(Catalog.FILE));
            catalog.generation = Math.max(catalog.generation, Catalog.newestMarker(config.directory())) + 1;
            if (catalog.generation >= 1L << (63 - TOKEN_GENERATION_SHIFT)) {
                throw new IllegalStateException("engine generation " + catalog.generation + " exhausted");
            }
            QueueEngine engine = new QueueEngine(config, clock, scheduler, catalog);
            synchronized (engine.admin) {
                engine.persistGeneration();
            }
            engine.recoverAll(catalogFound);
            synchronized (engine.admin) {
                engine.scheduleCatalogRetry();
            }
            return engine;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open queue engine in " + config.directory(), e);
        }
    }

    /**
     * Makes this run's generation durable before any delivery token of it is issued. Under admin.
     *
     * <p>Why: tokens are {@code generation << 44 | sequence} and {@link #wasIssued} fences tokens of earlier runs
     * (STALE_DELIVERY). If a run issued tokens from a generation that never reached the disk, the next run would
     * read the old generation, bump it to the same number and issue the same token values again; a client acking a
     * delivery of the first run (the client library sends such acks on its new connection) would then settle a
     * different message of the second run, which was never processed: a lost message. Keeping the bumped
     * generation in memory is not enough, since a clean shutdown on a still-full disk cannot write it either.
     *
     * <p>So: the catalog rewrite comes first. When it fails (disk full), the generation is recorded as an empty
     * marker file {@code generation-<n>} (an inode and a directory entry, no data block, so it normally succeeds on
     * a full disk), which the next open takes into account. Only when even that fails is the generation not
     * durable: then no queue delivers (no token is issued) until a retry writes the catalog or the marker; at
     * worst consumers wait for space, and no token is ever issued twice.
     */
    private void persistGeneration() {
        Path dir = config.directory();
        try {
            catalog.write(dir, config.logConfig().channelFactory());
            generationDurable = true;
            Catalog.deleteMarkers(dir, catalog.generation);
            return;
        } catch (IOException e) {
            catalogDeferred = true;
            try {
                Catalog.writeMarker(dir, config.logConfig().channelFactory(), catalog.generation);
                generationDurable = true;
                LOG.log(System.Logger.Level.WARNING, "queue engine in " + dir + ": catalog rewrite for generation "
                        + catalog.generation + " deferred (" + e + "); the generation is recorded in the marker file "
                        + Catalog.MARKER_PREFIX + catalog.generation + " and the catalog is retried every "
                        + DEFERRED_WRITE_RETRY_MILLIS + " ms");
            } catch (IOException m) {
                LOG.log(System.Logger.Level.WARNING, "queue engine in " + dir + ": catalog rewrite for generation "
                        + catalog.generation + " deferred (" + e + ") and the generation could not be recorded in a"
                        + " marker file either (" + m + "): no queue delivers until it is written (retried every "
                        + DEFERRED_WRITE_RETRY_MILLIS + " ms), so that no delivery token is ever issued twice");
            }
        }
    }

    /** Under admin: schedules the next retry of a deferred catalog write, unless one is pending. */
    private void scheduleCatalogRetry() {
        if (catalogDeferred && catalogRetry == null && !closed) {
            catalogRetry = scheduler.schedule(DEFERRED_WRITE_RETRY_MILLIS, this::retryCatalog);
        }
    }

    private void retryCatalog() {
        synchronized (admin) {
            catalogRetry = null;
            if (closed || !catalogDeferred) {
                return;
            }
            try {
                writeCatalog();
            } catch (IOException e) {
                if (!generationDurable) {
                    try {
                        Catalog.writeMarker(config.directory(), config.logConfig().channelFactory(),
                                catalog.generation);
                        markGenerationDurable();
                    } catch (IOException ignored) {
                        // still nothing: retried below
                    }
                }
                LOG.log(System.Logger.Level.DEBUG, "queue engine: deferred catalog write failed again: " + e);
                scheduleCatalogRetry();
            }
        }
    }

    /** Under admin: the generation reached the disk; queues held back for it may deliver now. */
    private void markGenerationDurable() {
        if (generationDurable) {
            return;
        }
        generationDurable = true;
        LOG.log(System.Logger.Level.INFO, "queue engine: generation " + catalog.generation
                + " is durable; queues deliver again");
        scheduler.schedule(0, () -> {
            for (QueueState q : queues.values()) {
                List<QueuedMessage> out;
                synchronized (q) {
                    if (q.closed) {
                        continue;
                    }
                    q.dispatch();
                    out = q.takeOutbox();
                }
                transfer(q, out);
            }
        });
    }

    /** Whether delivery tokens may be issued: this run's generation is durable. */
    boolean tokensIssuable() {
        return generationDurable;
    }

    private void recoverAll(boolean catalogFound) throws IOException {
        for (Catalog.Entry e : catalog.entries) {
            QueueState q = openDurable(e.name(), e.options(), true);
            for (String b : e.bindings()) {
                q.bindings.add(new SubjectPattern(b));
            }
            queues.put(e.name(), q);
        }
        // Stray directories (a crash between deleting a queue from the catalog and removing its files). Only a
        // catalog that was read says a directory is stray: a catalog that cannot be read fails the open above,
        // and without a catalog file nothing is known, so nothing is deleted.
        List<String> strays = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(queuesDir)) {
            for (Path d : dirs.toList()) {
                if (d.getFileName().toString().startsWith(TRASH_PREFIX)) {
                    // A deleted queue whose files a crash left half freed.
                    deleteTree(d);
                } else if (!queues.containsKey(d.getFileName().toString())) {
                    if (catalogFound) {
                        deleteTree(d);
                    } else {
                        strays.add(d.getFileName().toString());
                    }
                }
            }
        }
        if (!strays.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "queue engine in " + config.directory() + ": no catalog file, but"
                    + " queue directories " + strays + " exist; left in place, not recovered (restore the catalog"
                    + " to recover them)");
        }
        for (QueueState q : queues.values()) {
            synchronized (q) {
                q.start();
            }
        }
    }

    private QueueState openDurable(String name, QueueOptions options, boolean recover) throws IOException {
        Path dir = queuesDir.resolve(name);
        if (!recover) {
            deleteTree(dir);
        }
        Files.createDirectories(dir);
        SyncPolicy policy = options.durability() == Durability.FSYNC_INTERVAL
                ? SyncPolicy.interval(options.fsyncIntervalMillis()) : SyncPolicy.ALWAYS;
        LogConfig logConfig = config.logConfig().withSyncPolicy(policy);
        SettlementLog.Recovered r = new SettlementLog.Recovered();
        SettlementLog settlements = SettlementLog.open(dir, logConfig.channelFactory(), r);
        MessageLog log;
        try {
            log = new SegmentedMessageLog(dir.resolve("messages"), logConfig);
        } catch (StorageException e) {
            settlements.close();
            throw new IOException("queue '" + name + "': cannot open its message log: " + e.getMessage(), e);
        }
        QueueState q = new QueueState(this, name, options, log, settlements);
        synchronized (q) {
            try {
                q.recover(r, recover);
            } catch (IOException | RuntimeException e) {
                settlements.close();
                log.close();
                throw e;
            }
        }
        return q;
    }

    // ------------------------------------------------------------------------------------------------ admin

    /**
     * Creates the queue, or succeeds when it exists with equal options. Throws QUEUE_OPTIONS_MISMATCH naming the
     * first differing option, QUEUE_LIMIT at {@link QueueLimits#maxQueues}, BAD_QUEUE_OPTIONS for a bad name or a
     * dead-letter queue naming itself, QUEUE_NOT_FOUND when the dead-letter queue does not exist,
     * STORAGE_FAILED when its files cannot be created.
     */
    public QueueInfo declare(String name, QueueOptions options) {
        config.limits().checkQueueName(name);
        if (options.deadLetterQueue() != null) {
            config.limits().checkQueueName(options.deadLetterQueue());
            if (options.deadLetterQueue().equals(name)) {
                throw new QueueException(ErrorCode.BAD_QUEUE_OPTIONS, "queue '" + name
                        + "' cannot be its own dead-letter queue");
            }
        }
        synchronized (admin) {
            checkOpen();
            QueueState existing = queues.get(name);
            if (existing != null) {
                String diff = existing.options.firstDifference(options);
                if (diff != null) {
                    throw new QueueException(ErrorCode.QUEUE_OPTIONS_MISMATCH, "queue '" + name
                            + "' exists with different options: " + diff);
                }
                synchronized (existing) {
                    existing.lastUsedMillis = now();
                    return existing.info();
                }
            }
            if (queues.size() >= config.limits().maxQueues()) {
                throw new QueueException(ErrorCode.QUEUE_LIMIT, "cannot declare '" + name + "': " + queues.size()
                        + " queues, max " + config.limits().maxQueues());
            }
            if (options.deadLetterQueue() != null && !queues.containsKey(options.deadLetterQueue())) {
                throw new QueueException(ErrorCode.QUEUE_NOT_FOUND, "dead-letter queue '"
                        + options.deadLetterQueue() + "' of '" + name + "' does not exist: declare it first");
            }
            QueueState q;
            if (options.durable()) {
                try {
                    q = openDurable(name, options, false);
                    queues.put(name, q);
                    writeCatalog();
                } catch (IOException | StorageException e) {
                    QueueState half = queues.remove(name);
                    if (half != null) {
                        synchronized (half) {
                            half.close(closedReason(name), false);
                        }
                    }
                    throw new QueueException(ErrorCode.STORAGE_FAILED, "cannot create queue '" + name + "': " + e, e);
                }
            } else {
                q = new QueueState(this, name, options, null, null);
                queues.put(name, q);
            }
            synchronized (q) {
                q.start();
                return q.info();
            }
        }
    }

    /** Deletes the queue and its files; its consumers are cancelled with QUEUE_NOT_FOUND. */
    public void delete(String name) {
        synchronized (admin) {
            QueueState q = find(name);
            deleteLocked(q);
        }
    }

    private void deleteLocked(QueueState q) {
        queues.remove(q.name, q);
        synchronized (q) {
            q.close(closedReason(q.name), false);
        }
        if (q.durable()) {
            try {
                writeCatalog();
            } catch (IOException e) {
                // The catalog file still names it: the write is retried, and its files stay until the catalog no
                // longer names it (they are removed as strays at the next open).
                LOG.log(System.Logger.Level.WARNING, "queue '" + q.name + "': deletion not yet in the catalog ("
                        + e + "), retried every " + DEFERRED_WRITE_RETRY_MILLIS + " ms; its files stay meanwhile");
                catalogDeferred = true;
                scheduleCatalogRetry();
                return;
            }
            try {
                // Renamed away at once (the name is free for a new queue), its files freed in the background.
                SegmentedLog.deleteInBackground(queuesDir.resolve(q.name),
                        queuesDir.resolve(TRASH_PREFIX + q.name + "-" + System.nanoTime()));
            } catch (IOException e) {
                // The catalog no longer names it; stray files are removed at the next open.
                LOG.log(System.Logger.Level.WARNING, "queue '" + q.name + "': files not fully deleted: " + e);
            }
        }
    }

    private static QueueException closedReason(String name) {
        return new QueueException(ErrorCode.QUEUE_NOT_FOUND, "queue '" + name + "' was deleted");
    }

    /** Removes every ready and delayed message (unacked deliveries stay); returns how many. */
    public long purge(String name) {
        QueueState q = find(name);
        synchronized (q) {
            return q.purge();
        }
    }

    /**
     * Binds a subject pattern (wildcards '*' and '>') to the queue, stored with its definition. Idempotent: true
     * when added, false when the queue already had exactly this pattern. BAD_SUBJECT for an invalid pattern,
     * QUEUE_NOT_FOUND, QUEUE_LIMIT past {@link QueueLimits#maxBindingsPerQueue}, STORAGE_FAILED when a durable
     * queue's definition cannot be written (the binding is then not added).
     */
    public boolean bind(String name, String pattern) {
        checkBindingPattern(name, pattern);
        synchronized (admin) {
            QueueState q = find(name);
            if (indexOfBinding(q, pattern) >= 0) {
                return false;
            }
            if (q.bindings.size() >= config.limits().maxBindingsPerQueue()) {
                throw new QueueException(ErrorCode.QUEUE_LIMIT, "queue '" + name + "' has " + q.bindings.size()
                        + " bindings, max " + config.limits().maxBindingsPerQueue());
            }
            SubjectPattern added = new SubjectPattern(pattern);
            q.bindings.add(added);
            try {
                persistBindings(q);
            } catch (QueueException e) {
                q.bindings.remove(added);
                throw e;
            }
            return true;
        }
    }

    /**
     * Removes the binding whose pattern equals pattern (compared as text, not by what it matches); false when the
     * queue has no such binding. BAD_SUBJECT for an invalid pattern (it can never have been bound),
     * QUEUE_NOT_FOUND, STORAGE_FAILED when a durable queue's definition cannot be written (the binding then stays).
     */
    public boolean unbind(String name, String pattern) {
        checkBindingPattern(name, pattern);
        synchronized (admin) {
            QueueState q = find(name);
            int at = indexOfBinding(q, pattern);
            if (at < 0) {
                return false;
            }
            SubjectPattern removed = q.bindings.remove(at);
            try {
                persistBindings(q);
            } catch (QueueException e) {
                q.bindings.add(at, removed);
                throw e;
            }
            return true;
        }
    }

    private void checkBindingPattern(String name, String pattern) {
        try {
            Subjects.checkPattern(pattern, config.limits().maxSubjectBytes(), Limits.DEFAULT.maxSubjectTokens());
        } catch (ProtocolException e) {
            throw new QueueException(ErrorCode.BAD_SUBJECT, "binding of '" + name + "': " + e.getMessage());
        }
    }

    /** Admin lock held. */
    private static int indexOfBinding(QueueState q, String pattern) {
        for (int i = 0; i < q.bindings.size(); i++) {
            if (q.bindings.get(i).pattern().equals(pattern)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Sets the hook run after the engine itself removed bindings, without a caller asking: a queue with bindings
     * expired (unused for its expiry time) and was deleted. A broker that caches {@link #queuesBoundTo} answers
     * refreshes its cache here. Changes made through {@link #bind}, {@link #unbind} and {@link #delete} are not
     * reported: their caller knows. Runs on the scheduler's thread under the engine's admin lock, so a declare, bind
     * or delete that comes after the expiry also comes after the hook; it may read the engine ({@link #list},
     * {@link #queuesBoundTo}) but must not block. Null for none.
     */
    public void setBindingsListener(Runnable listener) {
        this.bindingsListener = listener;
    }

    private void persistBindings(QueueState q) {
        if (q.durable()) {
            try {
                writeCatalog();
            } catch (IOException e) {
                throw new QueueException(ErrorCode.STORAGE_FAILED, "queue '" + q.name
                        + "': binding not stored: " + e, e);
            }
        }
    }

    /** Names of the queues with a binding matching the published subject; the router publishes to each. */
    public List<String> queuesBoundTo(String subject) {
        List<String> out = new ArrayList<>();
        for (QueueState q : queues.values()) {
            for (SubjectPattern b : q.bindings) {
                if (b.matches(subject)) {
                    out.add(q.name);
                    break;
                }
            }
        }
        return out;
    }

    /** A snapshot of one queue. */
    public QueueInfo info(String name) {
        QueueState q = find(name);
        synchronized (q) {
            return q.info();
        }
    }

    /** Snapshots of every queue, by name. */
    public List<QueueInfo> list() {
        List<QueueInfo> out = new ArrayList<>();
        for (QueueState q : queues.values()) {
            synchronized (q) {
                if (!q.closed) {
                    out.add(q.info());
                }
            }
        }
        out.sort(Comparator.comparing(QueueInfo::name));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ messages

    /**
     * Publishes one message to the queue. The engine keeps the arrays (the caller must not modify them).
     * The callback gets the durability receipt, or the refusal: QUEUE_NOT_FOUND, MESSAGE_TOO_LARGE, QUEUE_FULL,
     * DISK_FULL (retriable), STORAGE_FAILED (queue stopped after a failed fsync).
     *
     * @param headers the header block (opaque), empty array when none
     */
    public void publish(String queue, String subject, byte[] headers, byte[] payload, PublishCallback callback) {
        PublishBatch.Single one = new PublishBatch.Single(subject, headers, payload, null, callback);
        publish(queue, one);
        one.reportRefusal();
    }

    /**
     * Publishes a batch of messages to one queue, in order, with one log write and one durability wait (see
     * {@link PublishBatch} for how outcomes are reported). Refusals as {@link #publish(String, String, byte[],
     * byte[], PublishCallback)}, per message.
     */
    public void publish(String queue, PublishBatch batch) {
        batch.markPublished();
        QueueState q;
        try {
            q = find(queue);
        } catch (QueueException e) {
            batch.refuseFrom(0, e);
            return;
        }
        long max = config.limits().maxMessageBytes();
        String lastSubject = null;
        long subjectBytes = 0;
        for (int i = 0; i < batch.size(); i++) {
            String subject = batch.subject(i);
            if (subject != lastSubject) {
                lastSubject = subject;
                subjectBytes = utf8Bytes(subject);
            }
            long bytes = subjectBytes + batch.headers(i).length + batch.payload(i).length;
            if (bytes > max) {
                batch.refuse(i, new QueueException(ErrorCode.MESSAGE_TOO_LARGE, "message of " + bytes
                        + " bytes > max " + max));
            }
        }
        List<QueuedMessage> out;
        synchronized (q) {
            q.publish(batch);
            out = q.takeOutbox();
        }
        transfer(q, out);
    }

    /**
     * Attaches a competing consumer with the given prefetch (most unacked deliveries; ignored by no-ack queues).
     * Returns its id. QUEUE_LIMIT past {@link QueueLimits#maxConsumersPerQueue}.
     */
    public long subscribe(String queue, int prefetch, Consumer consumer) {
        QueueState q = find(queue);
        List<QueuedMessage> out;
        long id;
        synchronized (q) {
            id = q.subscribe(prefetch, consumer);
            out = q.takeOutbox();
        }
        transfer(q, out);
        return id;
    }

    /** Detaches a consumer; its unacked deliveries are redelivered to others. False if it was not attached. */
    public boolean unsubscribe(String queue, long consumerId) {
        QueueState q = queues.get(queue);
        if (q == null) {
            return false;
        }
        List<QueuedMessage> out;
        boolean removed;
        synchronized (q) {
            removed = q.unsubscribe(consumerId);
            out = q.takeOutbox();
        }
        transfer(q, out);
        return removed;
    }

    /** Resumes a consumer whose {@link Consumer#deliver} returned false. */
    public void resume(String queue, long consumerId) {
        QueueState q = find(queue);
        List<QueuedMessage> out;
        synchronized (q) {
            q.resume(consumerId);
            out = q.takeOutbox();
        }
        transfer(q, out);
    }

    /** Settles a delivery. STALE_DELIVERY when it timed out or was settled, UNKNOWN_DELIVERY if never issued. */
    public void ack(String queue, long token) {
        QueueState q = find(queue);
        List<QueuedMessage> out;
        synchronized (q) {
            q.ack(token);
            out = q.takeOutbox();
        }
        transfer(q, out);
    }

    /**
     * Requeues a delivery, at once (delayMillis 0) or after a delay; over max deliveries or past its TTL it is
     * dead-lettered instead. Errors as {@link #ack}.
     */
    public void nack(String queue, long token, long delayMillis) {
        QueueState q = find(queue);
        List<QueuedMessage> out;
        synchronized (q) {
            q.nack(token, delayMillis);
            out = q.takeOutbox();
        }
        transfer(q, out);
    }

    /** Dead-letters a delivery with reason REJECTED (dropped when the queue has none). Errors as {@link #ack}. */
    public void reject(String queue, long token) {
        QueueState q = find(queue);
        List<QueuedMessage> out;
        synchronized (q) {
            q.reject(token);
            out = q.takeOutbox();
        }
        transfer(q, out);
    }

    /**
     * Sends every ready dead letter in {@code deadLetterQueue} back to its origin queue, or to {@code target} when
     * not null, as a fresh message (delivery count 0, no dead-letter info). Each leaves the dead-letter queue once
     * its new queue confirms it; one whose queue is gone or refuses stays. Returns how many were sent.
     */
    public int redrive(String deadLetterQueue, String target) {
        QueueState dlq = find(deadLetterQueue);
        if (target != null) {
            find(target);
        }
        List<QueuedMessage> taken;
        synchronized (dlq) {
            taken = dlq.takeForRedrive();
        }
        int sent = 0;
        for (QueuedMessage m : taken) {
            String dest = target != null ? target : m.deadLetter.originQueue();
            QueueState to = queues.get(dest);
            if (to == null || to == dlq) {
                synchronized (dlq) {
                    dlq.untransfer(m);
                }
                continue;
            }
            boolean ok = send(dlq, to, m, null, new PublishCallback() {
                @Override
                public void confirmed(long offset, boolean fsynced) {
                    later(dlq, () -> dlq.settleTransferred(m));
                }

                @Override
                public void failed(QueueException error) {
                    later(dlq, () -> dlq.untransfer(m));
                }
            });
            if (ok) {
                sent++;
            }
        }
        return sent;
    }

    /**
     * Publishes a copy of from's message m into to; false (callback told) when refused. A message from kept on disk
     * only is read back for the copy without being loaded into from: the copy's memory is to's.
     */
    private boolean send(QueueState from, QueueState to, QueuedMessage m, DeadLetter dead,
                         PublishCallback callback) {
        byte[] headers = m.headers;
        byte[] payload = m.payload;
        if (payload == null) {
            // m is in TRANSFER: unsettled, so its record stays in from's log, and nothing else reads or nulls it.
            QueuedMessage read;
            try {
                read = from.readBack(m);
            } catch (RuntimeException e) {
                later(from, () -> {
                    m.unreadable = true;
                    from.readFailed(m.offset, e);
                });
                callback.failed(new QueueException(ErrorCode.STORAGE_FAILED, "queue '" + from.name + "': message at"
                        + " offset " + m.offset + " could not be read back from the log: " + e, e));
                return false;
            }
            headers = read.headers;
            payload = read.payload;
        }
        PublishBatch.Single one = new PublishBatch.Single(m.subject, headers, payload, dead, callback);
        one.markPublished();
        one.markTransfer();
        List<QueuedMessage> out;
        synchronized (to) {
            to.publish(one);
            out = to.takeOutbox();
        }
        transfer(to, out);
        return one.reportRefusal();
    }

    /** Sends dead letters to from's dead-letter queue; holds no lock on entry. */
    private void transfer(QueueState from, List<QueuedMessage> dead) {
        if (dead.isEmpty()) {
            return;
        }
        // Recursion is bounded: a message moves on only when its queue dead-letters it again.
        for (QueuedMessage m : dead) {
            sendDeadLetter(from, m);
        }
    }

    private void sendDeadLetter(QueueState src, QueuedMessage m) {
        QueueState dlq = queues.get(src.options.deadLetterQueue());
        if (dlq == null || dlq.closed) {
            // The dead-letter queue was deleted: the message is dropped (counted in deadLettered).
            synchronized (src) {
                src.settleTransferred(m);
            }
            return;
        }
        DeadLetter dead = new DeadLetter(src.name, m.deathReason, m.deliveryCount);
        send(src, dlq, m, dead, new PublishCallback() {
            @Override
            public void confirmed(long offset, boolean fsynced) {
                later(src, () -> src.settleTransferred(m));
            }

            @Override
            public void failed(QueueException error) {
                LOG.log(System.Logger.Level.WARNING, "queue '" + src.name + "': dead letter refused by '"
                        + dlq.name + "', retrying in " + TRANSFER_RETRY_MILLIS + " ms: " + error.getMessage());
                scheduler.schedule(TRANSFER_RETRY_MILLIS, () -> {
                    boolean pending;
                    synchronized (src) {
                        // A record that cannot be read back waits for a restart (its queue has failed).
                        pending = m.state == QueuedMessage.TRANSFER && !src.closed && !m.unreadable;
                    }
                    if (pending) {
                        sendDeadLetter(src, m);
                    }
                });
            }
        });
    }

    /** Runs task under q's lock on the scheduler: callbacks may come from storage threads and must not block. */
    private void later(QueueState q, Runnable task) {
        scheduler.schedule(0, () -> {
            List<QueuedMessage> out;
            synchronized (q) {
                task.run();
                out = q.takeOutbox();
            }
            transfer(q, out);
        });
    }

    void onTimer(QueueState q) {
        List<QueuedMessage> out;
        boolean expire;
        QueueState.SlowWork slow;
        synchronized (q) {
            if (q.closed) {
                return;
            }
            q.onTimer();
            out = q.takeOutbox();
            expire = q.expiredQueue;
            slow = q.takeSlowWork();
        }
        transfer(q, out);
        if (slow != null) {
            q.runSlowWork(slow);
        }
        if (expire) {
            synchronized (admin) {
                if (queues.get(q.name) == q) {
                    LOG.log(System.Logger.Level.INFO, "queue '" + q.name + "' expired after "
                            + q.options.expiryMillis() + " ms unused; deleting it");
                    deleteLocked(q);
                    if (!q.bindings.isEmpty()) {
                        bindingsRemoved(q);
                    }
                }
            }
        }
    }

    /** Admin lock held: tells the bindings listener, before any later declare or bind can run. */
    private void bindingsRemoved(QueueState q) {
        Runnable listener = bindingsListener;
        if (listener == null) {
            return;
        }
        try {
            listener.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "bindings listener failed after queue '" + q.name + "' expired: "
                    + e);
        }
    }

    void reportHousekeepingFailure(QueueState q, Exception e) {
        LOG.log(System.Logger.Level.WARNING, "queue '" + q.name + "': settlement/retention write failed, will retry: "
                + e);
    }

    void reportCheckpointDeferred(QueueState q, IOException e) {
        LOG.log(System.Logger.Level.WARNING, "queue '" + q.name + "': recovery checkpoint deferred, its recovered"
                + " messages are served: " + QueueState.deferredCheckpointText(e.toString()));
    }

    void reportCheckpointRetry(QueueState q, Exception e, boolean written) {
        if (written) {
            LOG.log(System.Logger.Level.INFO, "queue '" + q.name + "': deferred recovery checkpoint written;"
                    + " publishes accepted again");
        } else {
            LOG.log(System.Logger.Level.DEBUG, "queue '" + q.name + "': deferred recovery checkpoint failed again: "
                    + e);
        }
    }

    /** Closes every queue cleanly (checkpointing settlements so acked messages stay acked) and the engine. */
    @Override
    public void close() {
        synchronized (admin) {
            if (closed) {
                return;
            }
            closed = true;
            if (catalogRetry != null) {
                catalogRetry.cancel();
                catalogRetry = null;
            }
            QueueException reason = new QueueException(ErrorCode.SERVER_SHUTDOWN, "queue engine closed");
            for (QueueState q : queues.values()) {
                synchronized (q) {
                    q.close(reason, true);
                }
            }
            queues.clear();
        }
    }

    /**
     * Test seam: stops like a crashed process would, as far as the queue engine's own files go: no checkpoint and
     * buffered settlement records are not written (message logs still close normally).
     */
    void crashForTest() {
        synchronized (admin) {
            closed = true;
            if (catalogRetry != null) {
                catalogRetry.cancel();
                catalogRetry = null;
            }
            QueueException reason = new QueueException(ErrorCode.SERVER_SHUTDOWN, "queue engine crashed");
            for (QueueState q : queues.values()) {
                synchronized (q) {
                    q.close(reason, false);
                }
            }
            queues.clear();
        }
    }

    // ------------------------------------------------------------------------------------------------ internals

    private QueueState find(String name) {
        QueueState q = queues.get(name);
        if (q == null) {
            checkOpen();
            throw new QueueException(ErrorCode.QUEUE_NOT_FOUND, "no queue '" + name + "'");
        }
        return q;
    }

    private void checkOpen() {
        if (closed) {
            throw new QueueException(ErrorCode.SERVER_SHUTDOWN, "queue engine closed");
        }
    }

    private void writeCatalog() throws IOException {
        catalog.entries.clear();
        for (QueueState q : queues.values()) {
            if (q.durable()) {
                catalog.entries.add(new Catalog.Entry(q.name, q.options,
                        q.bindings.stream().map(SubjectPattern::pattern).toList()));
            }
        }
        catalog.entries.sort(Comparator.comparing(Catalog.Entry::name));
        catalog.write(config.directory(), config.logConfig().channelFactory());
        // Whatever was deferred is in this write: the generation too.
        if (catalogDeferred) {
            catalogDeferred = false;
            LOG.log(System.Logger.Level.INFO, "queue engine: deferred catalog write done (generation "
                    + catalog.generation + ")");
        }
        markGenerationDurable();
        Catalog.deleteMarkers(config.directory(), catalog.generation);
    }

    /** Deletes dir and everything in it; files that vanish meanwhile (the storage reclaimer's) are fine. */
    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static long utf8Bytes(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 2 : 3;
        }
        return n;
    }

    long now() {
        return clock.nowMillis();
    }

    QueueScheduler scheduler() {
        return scheduler;
    }

    QueueLimits limits() {
        return config.limits();
    }

    /** Bytes all queues hold in messages now (see {@link QueueLimits#maxMemoryBytes}). */
    public long memoryBytes() {
        return memoryBytes.get();
    }

    /**
     * Takes bytes of the memory budget for a new message, or throws QUEUE_MEMORY_FULL when they would pass
     * maxMemoryBytes. Nothing is taken then.
     */
    void reserveMemory(String queue, long bytes) {
        long max = config.limits().maxMemoryBytes();
        long held;
        do {
            held = memoryBytes.get();
            if (held + bytes > max) {
                String text = "queue memory full: all queues hold " + held + " bytes and this message counts "
                        + bytes + " more, past max_queue_memory_bytes " + max + "; consume or purge, or raise it"
                        + " (and the broker's heap)";
                long now = System.nanoTime();
                long last = memoryFullLoggedNanos.get();
                if (now - last >= MEMORY_FULL_LOG_NANOS && memoryFullLoggedNanos.compareAndSet(last, now)) {
                    LOG.log(System.Logger.Level.WARNING, "refusing publishes to '" + queue + "' (and any queue): "
                            + text);
                }
                throw new QueueException(ErrorCode.QUEUE_MEMORY_FULL, "queue '" + queue + "': " + text);
            }
        } while (!memoryBytes.compareAndSet(held, held + bytes));
    }

    /**
     * Whether a durable queue keeps a new message of this cost in memory; past {@link QueueLimits#pageOutBytes} it
     * keeps it on disk only (its headers and payload are read back from the log when needed).
     */
    boolean keepsInMemory(long bytes) {
        return memoryBytes.get() + bytes <= config.limits().pageOutBytes();
    }

    void reportReadFailure(QueueState q, long offset, RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "queue '" + q.name + "': message at offset " + offset + " could not be"
                + " read from its log; the queue accepts no writes and delivers nothing past it (a restart reads it"
                + " again; a damaged record needs the operator, docs/queues.md \"Memory\")", e);
    }

    /** Takes bytes of the budget whatever it holds: recovered messages and ones moving between queues. */
    void holdMemory(long bytes) {
        memoryBytes.addAndGet(bytes);
    }

    /** Gives back what {@link #reserveMemory} or {@link #holdMemory} took. */
    void releaseMemory(long bytes) {
        long after = memoryBytes.addAndGet(-bytes);
        assert after >= 0 : "queue memory below zero: " + after;
    }

    int segmentBytes() {
        return config.logConfig().segmentBytes();
    }

    long nextToken() {
        return tokens.incrementAndGet();
    }

    boolean wasIssued(long token) {
        return token > 0 && token <= tokens.get();
    }

    long nextConsumerId() {
        return consumerIds.incrementAndGet();
    }

    /** Test seam: the lowest unsettled offset and the log's first offset of a durable queue. */
    long[] watermarks(String name) {
        QueueState q = find(name);
        synchronized (q) {
            return new long[] {q.lowWatermark(), q.logStartOffset()};
        }
    }
}
