package tern.microbench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import tern.queue.Consumer;
import tern.queue.Delivery;
import tern.queue.PublishBatch;
import tern.queue.QueueClock;
import tern.queue.QueueEngine;
import tern.queue.QueueEngineConfig;
import tern.queue.QueueException;
import tern.queue.QueueInfo;
import tern.queue.QueueOptions;
import tern.queue.QueueScheduler;

/**
 * The queue engine's full cycle for 1 KiB messages, measured in messages per second: publish through
 * {@link QueueEngine#publish(String, PublishBatch)} (the broker's path for a burst of SENDs), the durability
 * confirm, delivery to one consumer and the ack of each delivery. Engine only: no network, no broker.
 *
 * <ul>
 *   <li>{@code batch}: messages per {@link PublishBatch} (1: a burst of one SEND; 64: a burst of 64 sharing one
 *       log write and one group-commit wait). Every call publishes {@link #MESSAGES} messages, so one operation is
 *       one message whatever the batch.</li>
 *   <li>{@code durable=true}: a {@link QueueOptions#DURABLE} queue, confirmed once an fsync covers the message
 *       (group commit); a receipt without fsync fails the run. {@code durable=false}: a
 *       {@link QueueOptions#TRANSIENT} queue, confirmed at once.</li>
 * </ul>
 * The producer never has more than {@link #WINDOW} publishes unconfirmed (like a producer's confirm window, see
 * {@link LogAppendBenchmark}) and never runs more than {@link #BACKLOG} messages ahead of the consumer's acks, so
 * the score is the sustained rate of complete cycles, not of filling the queue. The consumer (prefetch
 * {@link #PREFETCH}) hands each delivery to an acking thread, as the broker's consumer hands it to a connection
 * whose client acks it later.
 *
 * <p>Nothing is counted that did not happen: a refused or failed publish, a redelivery, a delivery out of order or
 * missing, a cancelled consumer or no progress for {@link #STALL_SECONDS} s throws. After each iteration every
 * publish must be confirmed and acked, and the engine's own counters must agree.
 *
 * <p>Run: {@code java -jar tern-microbench/target/benchmarks.jar QueueEngineBenchmark}; set the directory with
 * {@code -Dtern.bench.dir=/path} (default: the system temp directory). The engine's directory is deleted at the
 * end of the trial.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class QueueEngineBenchmark {

    /** Messages published per {@link #publish()} call, in batches of {@link #batch}. */
    static final int MESSAGES = 64;
    /** Most publishes the producer may have unconfirmed. */
    static final int WINDOW = 1000;
    /** The consumer's prefetch (most unacked deliveries). */
    static final int PREFETCH = 1000;
    /** Most messages the producer may run ahead of the consumer's acks: the window plus the prefetch. */
    static final int BACKLOG = WINDOW + PREFETCH;
    static final int PAYLOAD_BYTES = 1024;
    static final String QUEUE = "bench";
    static final String SUBJECT = "bench.queue";
    /** A wait for confirms or acks that sees none for this long fails the run. */
    static final long STALL_SECONDS = 10;
    /** Delivery tokens on their way to the acking thread; a power of two above {@link #PREFETCH}. */
    private static final int RING = 1024;
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final byte[] NO_HEADERS = new byte[0];

    @Param({"1", "64"})
    public int batch;

    @Param({"true", "false"})
    public boolean durable;

    private Path dir;
    private ScheduledExecutorService timers;
    private QueueEngine engine;
    private Thread acker;
    private final byte[] payload = new byte[PAYLOAD_BYTES];

    /** Written by the benchmark thread only. */
    private long published;
    private final AtomicLong confirmed = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The benchmark thread while it waits for confirms or acks, else null. */
    private volatile Thread waiter;

    /** Tokens of deliveries, written under the queue's lock (which orders the deliveries), read by the acker. */
    private final long[] tokens = new long[RING];
    private final AtomicLong delivered = new AtomicLong();
    private volatile boolean ackerIdle;
    /** Set at tear-down: the consumer's cancellation and the acker's end are expected (the test sets it too). */
    volatile boolean stopping;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        if (batch < 1 || MESSAGES % batch != 0) {
            throw new IllegalArgumentException("batch " + batch + " must divide " + MESSAGES);
        }
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31);
        }
        String base = System.getProperty("tern.bench.dir");
        dir = base == null ? Files.createTempDirectory("tern-queue-bench")
                : Files.createTempDirectory(Files.createDirectories(Path.of(base)), "tern-queue-bench");
        timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-queue-timers");
            t.setDaemon(true);
            return t;
        });
        engine = QueueEngine.open(QueueEngineConfig.defaults(dir), QueueClock.SYSTEM, QueueScheduler.of(timers));
        engine.declare(QUEUE, durable ? QueueOptions.DURABLE : QueueOptions.TRANSIENT);
        acker = new Thread(this::ackLoop, "bench-acker");
        acker.setDaemon(true);
        acker.start();
        engine.subscribe(QUEUE, PREFETCH, new Consumer() {
            @Override
            public boolean deliver(Delivery d) {
                return take(d);
            }

            @Override
            public void cancelled(QueueException reason) {
                if (!stopping) {
                    fail("consumer cancelled: " + reason.code() + " " + reason.getMessage(), reason);
                }
            }
        });
    }

    /** Every publish of the iteration is confirmed and acked, and the engine counted the same. */
    @TearDown(Level.Iteration)
    public void drain() {
        await(published, published, "the iteration's last confirms and acks");
        QueueInfo q = engine.info(QUEUE);
        if (q.published() != published || q.delivered() != published || q.acked() != published
                || q.redelivered() != 0 || q.depth() != 0 || q.unacked() != 0 || q.deadLettered() != 0
                || q.dropped() != 0 || q.failure() != null || delivered.get() != published) {
            throw fail("after " + published + " publishes, confirmed " + confirmed.get() + ", delivered "
                    + delivered.get() + ", acked " + acked.get() + "; the engine says " + q, null);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        try {
            stopping = true;
            LockSupport.unpark(acker);
            acker.join(TimeUnit.SECONDS.toMillis(STALL_SECONDS));
            engine.close();
            timers.shutdownNow();
            timers.awaitTermination(STALL_SECONDS, TimeUnit.SECONDS);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** {@link #MESSAGES} messages per call, {@link #batch} per publish, each confirmed, delivered and acked. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long publish() {
        for (int sent = 0; sent < MESSAGES; sent += batch) {
            await(published + batch - WINDOW, published + batch - BACKLOG,
                    "room in the confirm window and the backlog");
            Confirm b = new Confirm(batch);
            for (int i = 0; i < batch; i++) {
                b.add(SUBJECT, NO_HEADERS, payload);
            }
            engine.publish(QUEUE, b);
            for (int i = 0; i < batch; i++) {
                QueueException refused = b.refusal(i);
                if (refused != null) {
                    throw fail("publish " + (published + i) + " refused: " + refused.code() + " "
                            + refused.getMessage(), refused);
                }
            }
            published += batch;
        }
        return published;
    }

    /** The consumer, under the queue's lock: checks the delivery and hands its token to the acker. */
    private boolean take(Delivery d) {
        long n = delivered.get();
        if (d.offset() != n || d.deliveryCount() != 1 || d.payload().length != PAYLOAD_BYTES) {
            throw fail("delivery " + n + ": expected offset " + n + ", a first delivery of " + PAYLOAD_BYTES
                    + " bytes; got offset " + d.offset() + ", delivery count " + d.deliveryCount() + ", "
                    + d.payload().length + " bytes", null);
        }
        if (n - acked.get() >= RING) {
            throw fail("delivery " + n + " with only " + acked.get() + " acked: prefetch " + PREFETCH
                    + " exceeded", null);
        }
        tokens[(int) (n & (RING - 1))] = d.token();
        delivered.set(n + 1);
        if (ackerIdle) {
            LockSupport.unpark(acker);
        }
        return true;
    }

    /** The acking thread: acks every delivery in order, as a client would after receiving it. */
    private void ackLoop() {
        long next = 0;
        try {
            while (!stopping) {
                long end = delivered.get();
                if (next == end) {
                    ackerIdle = true;
                    if (delivered.get() == next && !stopping) {
                        LockSupport.parkNanos(this, PARK_NANOS);
                    }
                    ackerIdle = false;
                    continue;
                }
                for (; next < end; next++) {
                    engine.ack(QUEUE, tokens[(int) (next & (RING - 1))]);
                    acked.lazySet(next + 1);
                }
                acked.set(end);
                wake();
            }
        } catch (Throwable t) {
            fail("ack of delivery " + next + " failed: " + t, t);
        }
    }

    /** Waits until at least {@code confirms} publishes are confirmed and {@code acks} deliveries acked. */
    private void await(long confirms, long acks, String what) {
        checkFailure();
        if (confirmed.get() >= confirms && acked.get() >= acks) {
            return;
        }
        long start = System.nanoTime();
        waiter = Thread.currentThread();
        try {
            while (confirmed.get() < confirms || acked.get() < acks) {
                checkFailure();
                if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(STALL_SECONDS)) {
                    throw fail("no progress for " + STALL_SECONDS + " s waiting for " + what + ": published "
                            + published + ", confirmed " + confirmed.get() + ", delivered " + delivered.get()
                            + ", acked " + acked.get(), null);
                }
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        } finally {
            waiter = null;
        }
        checkFailure();
    }

    private void wake() {
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    private void checkFailure() {
        Throwable f = failure.get();
        if (f != null) {
            throw new IllegalStateException("queue benchmark failed: " + f.getMessage(), f);
        }
    }

    /** Records the run's first failure (seen by the benchmark thread at its next check) and returns it. */
    private IllegalStateException fail(String message, Throwable cause) {
        IllegalStateException e = new IllegalStateException(message, cause);
        failure.compareAndSet(null, e);
        wake();
        return e;
    }

    /** One publish's outcome: counts the confirms, records a failure. */
    private final class Confirm extends PublishBatch {
        Confirm(int capacity) {
            super(capacity);
        }

        @Override
        protected void durable(boolean fsynced) {
            if (QueueEngineBenchmark.this.durable && !fsynced) {
                fail("a durable queue confirmed " + size() + " publishes without fsync", null);
                return;
            }
            confirmed.addAndGet(size());
            wake();
        }

        @Override
        protected void failed(QueueException error) {
            fail("publish failed: " + error.code() + " " + error.getMessage(), error);
        }
    }

    /** The engine, for tests. */
    QueueEngine engine() {
        return engine;
    }

    /** The engine's directory, for tests. */
    Path directory() {
        return dir;
    }
}
