package tern.microbench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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

import tern.storage.DurabilityCallback;
import tern.storage.LogConfig;
import tern.storage.SegmentedLog;
import tern.storage.SyncPolicy;

/**
 * Appends of 1 KiB records to a {@link SegmentedLog}, measured in records per second.
 *
 * <ul>
 *   <li>{@code sync=ALWAYS}: fsync-before-notify group commit. Every record registers a durability callback
 *       (single appends) or every batch one for its last record, and the appender never runs more than
 *       {@link #WINDOW} records ahead of the durable offset (like publishers with a bounded confirm window), so the
 *       score is the sustained rate of <em>confirmed</em> appends, fsync included.</li>
 *   <li>{@code sync=NEVER}: the same without fsync (write throughput only; test-only policy).</li>
 * </ul>
 * Fully confirmed segments are deleted as the run goes, as a queue would, so disk use stays bounded.
 *
 * <p>Run: {@code java -jar tern-microbench/target/benchmarks.jar LogAppendBenchmark}; set the directory with
 * {@code -Dtern.bench.dir=/path} (default: the system temp directory).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class LogAppendBenchmark {

    /** Most records the appender may run ahead of the durable offset. */
    static final int WINDOW = 16_384;
    /** Records per batch in {@link #appendBatch()}. */
    static final int BATCH = 32;

    @Param({"ALWAYS", "NEVER"})
    public String sync;

    @Param({"1024"})
    public int recordBytes;

    private Path dir;
    private SegmentedLog log;
    private ByteBuffer payload;
    private ByteBuffer[] batch;
    private final AtomicLong confirmed = new AtomicLong();
    private final DurabilityCallback callback = (offset, failure) -> {
        if (failure != null) {
            throw new IllegalStateException("durability failed at " + offset, failure);
        }
        confirmed.lazySet(offset);
    };

    @Setup(Level.Trial)
    public void setup() throws IOException {
        String base = System.getProperty("tern.bench.dir");
        dir = base == null ? Files.createTempDirectory("tern-log-bench")
                : Files.createTempDirectory(Files.createDirectories(Path.of(base)), "tern-log-bench");
        SyncPolicy policy = "NEVER".equals(sync) ? SyncPolicy.NEVER : SyncPolicy.ALWAYS;
        log = SegmentedLog.open(dir, LogConfig.DEFAULT.withSyncPolicy(policy));
        byte[] bytes = new byte[recordBytes];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        payload = ByteBuffer.allocateDirect(recordBytes).put(bytes).flip();
        batch = new ByteBuffer[BATCH];
        for (int i = 0; i < BATCH; i++) {
            batch[i] = payload.duplicate();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        log.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** One record per call, one durability callback per record. */
    @Benchmark
    public long append() {
        long offset = log.append(payload, 0L);
        log.whenDurable(offset, callback);
        backpressure(offset);
        return offset;
    }

    /** {@link #BATCH} records per call in one write, one durability callback per batch. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long appendBatch() {
        long first = log.appendBatch(batch, 0, BATCH, 0L);
        long last = first + BATCH - 1;
        log.whenDurable(last, callback);
        backpressure(last);
        return last;
    }

    private void backpressure(long offset) {
        if ((offset & 0xFFFF) < BATCH) {
            log.deleteSegmentsBefore(log.durableOffset());
        }
        while (offset - log.durableOffset() > WINDOW) {
            LockSupport.parkNanos(20_000);
        }
    }

    long confirmedOffset() {
        return confirmed.get();
    }

    /** The log, for tests. */
    SegmentedLog log() {
        return log;
    }
}
