package tern.storage;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Random sequences of appends, batch appends, reopens, torn tails (a crash cutting the tail segment anywhere) and
 * retention keep the log equal to a trivial in-memory model: a list of payloads and a start offset.
 *
 * <p>jqwik does not honour JUnit's {@code @Timeout}, so every try runs under
 * {@link org.junit.jupiter.api.Assertions#assertTimeoutPreemptively}.
 */
class LogModelProperties {

    private static final Duration TIMEOUT_PER_TRY = Duration.ofSeconds(30);

    sealed interface Op permits Append, Batch, Reopen, TearTail, DeleteBefore {
    }

    /** Append {@code count} records one by one. */
    record Append(int count, int seed) implements Op {
    }

    /** Append {@code count} records in one batch. */
    record Batch(int count, int seed) implements Op {
    }

    /** Close and reopen. */
    record Reopen() implements Op {
    }

    /** Crash: cut the tail segment at {@code permille}/1000 of its size, then reopen. */
    record TearTail(int permille) implements Op {
    }

    /** Retention up to {@code permille}/1000 of the way from start to end. */
    record DeleteBefore(int permille) implements Op {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> append = Arbitraries.integers().between(1, 80).flatMap(
                n -> Arbitraries.integers().map(seed -> (Op) new Append(n, seed)));
        Arbitrary<Op> batch = Arbitraries.integers().between(1, 30).flatMap(
                n -> Arbitraries.integers().map(seed -> (Op) new Batch(n, seed)));
        Arbitrary<Op> reopen = Arbitraries.just(new Reopen());
        Arbitrary<Op> tear = Arbitraries.integers().between(0, 1000).map(TearTail::new);
        Arbitrary<Op> delete = Arbitraries.integers().between(0, 1000).map(DeleteBefore::new);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, append), net.jqwik.api.Tuple.of(2, batch), net.jqwik.api.Tuple.of(1, reopen),
                net.jqwik.api.Tuple.of(2, tear), net.jqwik.api.Tuple.of(1, delete))
                .list().ofMinSize(1).ofMaxSize(20);
    }

    @Property(tries = 200)
    void logMatchesTheModel(@ForAll("ops") List<Op> ops) throws Exception {
        assertTimeoutPreemptively(TIMEOUT_PER_TRY, () -> run(ops));
    }

    private static void run(List<Op> ops) throws Exception {
        Path dir = Files.createTempDirectory("tern-log-model");
        LogConfig config = LogConfig.DEFAULT.withSegmentBytes(2048).withMaxRecordBytes(600)
                .withIndexIntervalBytes(128).withSyncPolicy(SyncPolicy.NEVER);
        List<byte[]> model = new ArrayList<>();
        long start = 0;
        SegmentedLog log = SegmentedLog.open(dir, config);
        try {
            for (Op op : ops) {
                if (op instanceof Append a) {
                    java.util.Random rnd = new java.util.Random(a.seed());
                    for (int i = 0; i < a.count(); i++) {
                        byte[] p = new byte[rnd.nextInt(601)];
                        rnd.nextBytes(p);
                        assertThat(log.append(ByteBuffer.wrap(p), model.size())).isEqualTo(model.size());
                        model.add(p);
                    }
                } else if (op instanceof Batch b) {
                    java.util.Random rnd = new java.util.Random(b.seed());
                    ByteBuffer[] batch = new ByteBuffer[b.count()];
                    int total = 0;
                    for (int i = 0; i < batch.length; i++) {
                        byte[] p = new byte[rnd.nextInt(60)];
                        rnd.nextBytes(p);
                        batch[i] = ByteBuffer.wrap(p);
                        total += p.length + RecordFormat.HEADER_BYTES;
                    }
                    assertThat(total).isLessThanOrEqualTo(config.segmentBytes());
                    assertThat(log.appendBatch(batch, 0, batch.length, model.size())).isEqualTo(model.size());
                    for (ByteBuffer p : batch) {
                        model.add(TestSupport.bytes(p));
                    }
                } else if (op instanceof Reopen) {
                    log.close();
                    log = SegmentedLog.open(dir, config);
                    assertThat(log.recoveryReport().truncated()).isFalse();
                } else if (op instanceof TearTail t) {
                    log.close();
                    List<Path> segments = TestSupport.segmentFiles(dir);
                    Path tail = segments.get(segments.size() - 1);
                    long base = RecordFormat.parseBaseOffset(tail.getFileName().toString(), ".log");
                    long size = Files.size(tail);
                    long cut = size * t.permille() / 1000;
                    try (FileChannel ch = FileChannel.open(tail, StandardOpenOption.WRITE)) {
                        ch.truncate(cut);
                    }
                    long pos = 0;
                    long kept = base;
                    while (kept < model.size()
                            && pos + RecordFormat.HEADER_BYTES + model.get((int) kept).length <= cut) {
                        pos += RecordFormat.HEADER_BYTES + model.get((int) kept).length;
                        kept++;
                    }
                    model.subList((int) kept, model.size()).clear();
                    log = SegmentedLog.open(dir, config);
                    assertThat(log.recoveryReport().truncated()).isEqualTo(pos != cut);
                } else if (op instanceof DeleteBefore d) {
                    long offset = start + (model.size() - start) * d.permille() / 1000;
                    List<Path> segments = TestSupport.segmentFiles(dir);
                    List<Long> bases = segments.stream().map(p -> RecordFormat.parseBaseOffset(
                            p.getFileName().toString(), ".log")).toList();
                    int n = 0;
                    while (n < bases.size() - 1 && bases.get(n + 1) <= offset) {
                        n++;
                    }
                    assertThat(log.deleteSegmentsBefore(offset)).isEqualTo(n);
                    start = bases.get(n);
                }
                check(log, model, start);
            }
        } finally {
            log.close();
            TestSupport.deleteRecursively(dir);
        }
    }

    private static void check(SegmentedLog log, List<byte[]> model, long start) {
        assertThat(log.startOffset()).isEqualTo(start);
        assertThat(log.endOffset()).isEqualTo(model.size());
        try (LogReader r = log.reader(start)) {
            for (long o = start; o < model.size(); o++) {
                assertThat(r.next()).isTrue();
                assertThat(r.offset()).isEqualTo(o);
                assertThat(TestSupport.bytes(r.payload())).isEqualTo(model.get((int) o));
            }
            assertThat(r.next()).isFalse();
        }
        if (model.size() > start) {
            long mid = (start + model.size()) / 2;
            assertThat(log.read(mid).payloadBytes()).isEqualTo(model.get((int) mid));
        }
    }
}
