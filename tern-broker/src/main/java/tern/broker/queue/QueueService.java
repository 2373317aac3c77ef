package tern.broker.queue;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.protocol.Frame;
import tern.protocol.MessageLayout;
import tern.protocol.QueueSpec;
import tern.queue.Overflow;
import tern.queue.PublishCallback;
import tern.queue.QueueClock;
import tern.queue.QueueEngine;
import tern.queue.QueueEngineConfig;
import tern.queue.QueueException;
import tern.queue.QueueInfo;
import tern.queue.QueueLimits;
import tern.queue.QueueOptions;
import tern.queue.QueueScheduler;

/**
 * The broker's durable queues: one {@link QueueEngine} (in {@code <dataDir>/queues}), its timer thread, and the
 * cache of which queues a published subject is bound to. Thread-safe. Sessions get a {@link QueueSession} each.
 */
public final class QueueService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueService.class);
    /** Most subjects whose bound queues are cached; past it lookups go to the engine. */
    static final int BINDING_CACHE_ENTRIES = 4096;

    private final QueueEngine engine;
    private final ScheduledExecutorService timer;
    private volatile ConcurrentHashMap<String, List<String>> boundCache = new ConcurrentHashMap<>();
    private volatile boolean hasBindings;

    private QueueService(QueueEngine engine, ScheduledExecutorService timer) {
        this.engine = engine;
        this.timer = timer;
    }

    /** Opens (recovering) the engine in directory. */
    public static QueueService open(Path directory, QueueLimits limits) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-queue-timer");
            t.setDaemon(true);
            return t;
        });
        try {
            QueueEngine engine = QueueEngine.open(QueueEngineConfig.defaults(directory, limits), QueueClock.SYSTEM,
                    QueueScheduler.of(timer));
            QueueService s = new QueueService(engine, timer);
            // An expired queue takes its bindings with it; the engine deletes it on its own, so it tells us.
            engine.setBindingsListener(s::bindingsChanged);
            s.bindingsChanged();
            List<QueueInfo> queues = engine.list();
            log.info("queue engine open in {}: {} queues holding {} bytes in memory (max_queue_memory_bytes {})",
                    directory, queues.size(), engine.memoryBytes(), limits.maxMemoryBytes());
            return s;
        } catch (RuntimeException e) {
            timer.shutdownNow();
            throw e;
        }
    }

    public QueueEngine engine() {
        return engine;
    }

    /** A per-connection handler of queue frames. */
    public QueueSession newSession(QueueChannel channel) {
        return new QueueSession(this, channel);
    }

    /** Queues (durable + transient) and their total depth, for broker statistics. */
    public long[] counts() {
        List<QueueInfo> all = engine.list();
        long depth = 0;
        long unacked = 0;
        for (QueueInfo q : all) {
            depth += q.depth();
            unacked += q.unacked();
        }
        return new long[] {all.size(), depth, unacked};
    }

    // ---- bindings ---------------------------------------------------------------------------------------

    /** True when some queue has a binding: only then does a PUB cost a lookup. */
    public boolean hasBindings() {
        return hasBindings;
    }

    /**
     * Some queue's bindings changed (bind, unbind, delete, expiry): drops the cache of bound queues per subject, so
     * that the next PUB on each subject asks the engine again. Any thread.
     */
    void bindingsChanged() {
        boundCache = new ConcurrentHashMap<>();
        boolean any = false;
        for (QueueInfo q : engine.list()) {
            if (!q.bindings().isEmpty()) {
                any = true;
                break;
            }
        }
        hasBindings = any;
    }

    /**
     * Sends a PUB (the whole frame at index of buf) into every queue bound to its subject. No confirm: refusals
     * (queue full, deleted) are logged at debug level. Called on the publisher's event loop.
     */
    public void publishBound(ByteBuf buf, int index, int frameBytes, int maxSubjectBytes, int maxHeaders) {
        ByteBuffer nio = buf.nioBuffer(index, frameBytes);
        MessageLayout m = new MessageLayout().parse(nio, 0, frameBytes, maxSubjectBytes, maxHeaders);
        byte[] subjectBytes = new byte[m.subjectBytes()];
        nio.get(m.subjectOffset(), subjectBytes);
        String subject = new String(subjectBytes, java.nio.charset.StandardCharsets.UTF_8);
        ConcurrentHashMap<String, List<String>> cache = boundCache;
        List<String> queues = cache.get(subject);
        if (queues == null) {
            queues = engine.queuesBoundTo(subject);
            if (cache.size() < BINDING_CACHE_ENTRIES) {
                cache.put(subject, queues);
            }
        }
        if (queues.isEmpty()) {
            return;
        }
        byte[] headers = new byte[m.headersBytes()];
        nio.get(m.headersOffset(), headers);
        byte[] payload = new byte[m.payloadBytes()];
        nio.get(m.payloadOffset(), payload);
        for (String q : queues) {
            engine.publish(q, subject, headers, payload, BOUND_PUBLISH);
        }
    }

    /** Test seam: the cached bound queues of subject, or null when it is not cached. */
    List<String> cachedBoundQueues(String subject) {
        return boundCache.get(subject);
    }

    private static final PublishCallback BOUND_PUBLISH = new PublishCallback() {
        @Override
        public void confirmed(long offset, boolean fsynced) {
        }

        @Override
        public void failed(QueueException error) {
            log.debug("bound publish refused: {} {}", error.code(), error.getMessage());
        }
    };

    // ---- conversions ------------------------------------------------------------------------------------

    /** The engine's options for a wire spec; throws QueueException(BAD_QUEUE_OPTIONS) for invalid values. */
    static QueueOptions options(QueueSpec s) {
        QueueOptions o = s.durable() ? QueueOptions.DURABLE : QueueOptions.TRANSIENT;
        if (s.fsyncIntervalMillis() > 0) {
            o = o.withFsyncIntervalMillis(s.fsyncIntervalMillis());
        }
        return o.withMessageTtlMillis(s.messageTtlMillis()).withExpiryMillis(s.expiryMillis())
                .withAckTimeoutMillis(s.ackTimeoutMillis()).withNoAck(s.noAck())
                .withMaxLength(s.maxLengthMessages(), s.maxLengthBytes(),
                        s.dropHead() ? Overflow.DROP_HEAD : Overflow.REJECT_PUBLISH)
                .withMaxDeliveries(s.maxDeliveries())
                .withDeadLetterQueue(s.deadLetterQueue().isEmpty() ? null : s.deadLetterQueue());
    }

    static QueueSpec spec(QueueOptions o, List<String> bindings) {
        return new QueueSpec(o.durable(), o.noAck(), o.overflow() == Overflow.DROP_HEAD,
                (int) Math.min(Integer.MAX_VALUE, o.fsyncIntervalMillis()), o.messageTtlMillis(), o.expiryMillis(),
                o.ackTimeoutMillis(), o.maxLengthMessages(), o.maxLengthBytes(), o.maxDeliveries(),
                o.deadLetterQueue() == null ? "" : o.deadLetterQueue(), bindings);
    }

    static Frame.QInfo qinfo(int id, QueueInfo i) {
        return new Frame.QInfo(id, i.name(), spec(i.options(), i.bindings()), i.depth(), i.depthBytes(), i.unacked(),
                i.consumers(), i.published(), i.delivered(), i.redelivered(), i.acked(), i.deadLettered(),
                i.expired(), i.dropped(), i.failure() == null ? "" : i.failure());
    }

    /** Closes the engine (checkpointing every durable queue) and its timer. Call after connections closed. */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            timer.shutdown();
            try {
                if (!timer.awaitTermination(2, TimeUnit.SECONDS)) {
                    timer.shutdownNow();
                }
            } catch (InterruptedException e) {
                timer.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
