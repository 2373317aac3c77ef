package tern.storage;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static tern.storage.TestSupport.appendUpTo;
import static tern.storage.TestSupport.assertContent;
import static tern.storage.TestSupport.bytes;
import static tern.storage.TestSupport.payload;
import static tern.storage.TestSupport.small;
import static tern.storage.TestSupport.timestamp;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RetentionTest {

    private static final int MAX = 400;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void settledSegmentsAreRecycledAndStaleRecordsInThemAreNeverRead() throws Exception {
        LogConfig config = small(SyncPolicy.ALWAYS);
        Path crashed = dir.resolveSibling(dir.getFileName() + "-crashed");
        long end;
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 600, MAX);
            assertThat(log.segmentCount()).isGreaterThan(4);
            long thirdBase = TestSupport.frames(TestSupport.segmentFiles(dir).get(2)).get(0)[0];
            assertThat(log.deleteSegmentsBefore(thirdBase)).isEqualTo(2);
            List<Path> spares = files(".spare");
            assertThat(spares).hasSize(SegmentedLog.MAX_SPARES);
            // The next rolls reuse the spares (renamed, overwritten from the start): no file is created for them.
            int before = TestSupport.segmentFiles(dir).size();
            long base = log.endOffset();
            while (files(".spare").size() > 0) {
                appendUpTo(log, log.endOffset() + 10, MAX);
            }
            assertThat(TestSupport.segmentFiles(dir)).hasSize(before + 2);
            end = log.endOffset();
            log.durable(end - 1).get(10, TimeUnit.SECONDS);
            assertContent(log, thirdBase, end, MAX);
            // A process crash now: the active segment is a recycled file whose tail still holds the records of
            // its previous life (valid CRCs, older offsets).
            TestSupport.copyDir(dir, crashed);
            assertThat(Files.size(TestSupport.segmentFiles(crashed).get(TestSupport.segmentFiles(crashed).size() - 1)))
                    .as("the recycled active segment is longer than its records")
                    .isGreaterThan(log.sizeInBytes() / log.segmentCount());
            assertThat(base).isLessThan(end);
        }
        // Clean close trims the recycled segment: a clean reopen cuts nothing.
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, log.startOffset(), end, MAX);
        }
        // After the crash, recovery stops at the first stale record and serves exactly the records written.
        try (SegmentedLog log = SegmentedLog.open(crashed, config)) {
            assertThat(log.endOffset()).isEqualTo(end);
            assertContent(log, log.startOffset(), end, MAX);
            appendUpTo(log, end + 100, MAX);
            log.durable(end + 99).get(10, TimeUnit.SECONDS);
        }
        try (SegmentedLog log = SegmentedLog.open(crashed, config)) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, log.startOffset(), end + 100, MAX);
        }
    }

    private List<Path> files(String suffix) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
        }
    }

    @Test
    @Timeout(60)
    void deletedSegmentsAreRenamedOutAtOnceAndUnlinkedInTheBackground() throws Exception {
        LogConfig config = small(SyncPolicy.ALWAYS);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 1000, MAX);
            long secondBase = TestSupport.frames(TestSupport.segmentFiles(dir).get(1)).get(0)[0];
            assertThat(log.deleteSegmentsBefore(secondBase)).isEqualTo(1);
            // Gone from the log's names at once (recovery ignores "*.deleted"), gone from the disk soon after.
            assertThat(dir.resolve("00000000000000000000.log")).doesNotExist();
            assertThat(Reclaimer.awaitIdle(10_000)).isTrue();
            assertThat(dir.resolve("00000000000000000000.log" + Reclaimer.SUFFIX)).doesNotExist();
        }
        // A crash between the rename and the unlink leaves a retired file (big, to take several steps): the next
        // open reclaims it, and recovery never mistakes it for part of the log.
        Path leftover = dir.resolve("00000000000000000000.log" + Reclaimer.SUFFIX);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(leftover,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), 3 * Reclaimer.STEP_BYTES);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertThat(log.endOffset()).isEqualTo(1000);
            assertThat(Reclaimer.awaitIdle(10_000)).isTrue();
            assertThat(leftover).doesNotExist();
        }
    }

    @Test
    @Timeout(60)
    void deleteSegmentsBeforeRemovesOnlyWholeSegmentsBelowTheOffset() throws Exception {
        LogConfig config = small(SyncPolicy.ALWAYS);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 1000, MAX);
            int before = log.segmentCount();
            assertThat(log.deleteSegmentsBefore(0)).isZero();
            long secondBase = TestSupport.frames(TestSupport.segmentFiles(dir).get(1)).get(0)[0];
            // One record short of the second segment: the first segment still holds a needed record.
            assertThat(log.deleteSegmentsBefore(secondBase - 1)).isZero();
            assertThat(log.deleteSegmentsBefore(secondBase)).isEqualTo(1);
            assertThat(log.startOffset()).isEqualTo(secondBase);
            assertThat(log.segmentCount()).isEqualTo(before - 1);
            assertThat(TestSupport.segmentFiles(dir)).hasSize(before - 1);
            assertThat(dir.resolve("00000000000000000000.index")).doesNotExist();
            assertThat(assertThrows(StorageException.class, () -> log.read(secondBase - 1)).reason())
                    .isEqualTo(StorageException.Reason.OFFSET_OUT_OF_RANGE);
            assertContent(log, secondBase, 1000, MAX);

            // Everything consumed: all sealed segments go, the active one stays, appends go on.
            int deleted = log.deleteSegmentsBefore(Long.MAX_VALUE);
            assertThat(deleted).isEqualTo(before - 2);
            assertThat(log.segmentCount()).isEqualTo(1);
            long start = log.startOffset();
            appendUpTo(log, 1100, MAX);
            log.durable(1099).get(10, TimeUnit.SECONDS);
            assertContent(log, start, 1100, MAX);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertThat(log.endOffset()).isEqualTo(1100);
            assertContent(log, log.startOffset(), 1100, MAX);
        }
    }

    @Test
    @Timeout(60)
    void deletingTheSegmentJustRolledAwayFromDoesNotFailTheSyncThread() throws Exception {
        // The sync thread reads the segment list, then fsyncs the last one; a roll followed at once by retention
        // can delete that segment in between. That must not fail the log.
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            long end = 0;
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            while (System.nanoTime() < until) {
                int segments = log.segmentCount();
                while (log.segmentCount() == segments) {
                    byte[] p = payload(end, 2000);
                    log.append(p, 0, p.length, timestamp(end));
                    end++;
                }
                log.deleteSegmentsBefore(Long.MAX_VALUE);
            }
            log.durable(end - 1).get(10, TimeUnit.SECONDS);
            assertThat(log.failure()).isNull();
        }
    }

    @Test
    @Timeout(60)
    void appendsRetentionAndReadsOnThreeThreadsAtOnceStayConsistent() throws Exception {
        // As in a queue: the event loop appends, the housekeeping thread deletes consumed segments, consumers read.
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong deleted = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            Thread retention = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        // Keep the last ~200 records: whole segments below that go as soon as they can.
                        deleted.addAndGet(log.deleteSegmentsBefore(log.endOffset() - 200));
                        Thread.onSpinWait();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            Thread reader = new Thread(() -> {
                Random random = new Random(7);
                try {
                    while (!stop.get()) {
                        long start = log.startOffset();
                        long end = log.endOffset();
                        if (end == start) {
                            continue;
                        }
                        long o = start + (long) (random.nextDouble() * (end - start));
                        try {
                            LogRecord r = log.read(o);
                            assertThat(r.offset()).isEqualTo(o);
                            assertThat(r.payloadBytes()).isEqualTo(payload(o, MAX));
                            reads.incrementAndGet();
                        } catch (StorageException e) {
                            // Deleted between reading startOffset and the read: the only allowed refusal.
                            assertThat(e.reason()).isEqualTo(StorageException.Reason.OFFSET_OUT_OF_RANGE);
                            assertThat(o).isLessThan(log.startOffset());
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            retention.start();
            reader.start();
            long end = 0;
            List<CompletableFuture<Long>> confirms = new ArrayList<>();
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            while (System.nanoTime() < until && failure.get() == null) {
                byte[] p = payload(end, MAX);
                log.append(p, 0, p.length, timestamp(end));
                if (end % 50 == 0) {
                    confirms.add(log.durable(end));
                }
                end++;
            }
            stop.set(true);
            retention.join(10_000);
            reader.join(10_000);
            assertThat(failure.get()).isNull();
            for (CompletableFuture<Long> f : confirms) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertThat(log.failure()).isNull();
            assertThat(deleted.get()).isPositive();
            assertThat(reads.get()).isPositive();
            assertContent(log, log.startOffset(), end, MAX);
        }
    }

    @Test
    @Timeout(60)
    void ageAndSizeRetention() throws Exception {
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            appendUpTo(log, 1000, MAX); // timestamps grow with the offset
            int segments = log.segmentCount();
            long secondBase = TestSupport.frames(TestSupport.segmentFiles(dir).get(1)).get(0)[0];
            assertThat(log.deleteSegmentsOlderThan(TestSupport.timestamp(secondBase - 1))).isZero();
            assertThat(log.deleteSegmentsOlderThan(TestSupport.timestamp(secondBase - 1) + 1)).isEqualTo(1);
            assertThat(log.startOffset()).isEqualTo(secondBase);

            long size = log.sizeInBytes();
            assertThat(log.deleteSegmentsBeyondSize(size)).isZero();
            assertThat(log.deleteSegmentsBeyondSize(size - 1)).isEqualTo(1);
            assertThat(log.segmentCount()).isEqualTo(segments - 2);
            assertThat(log.deleteSegmentsBeyondSize(0)).isEqualTo(segments - 3);
            assertThat(log.segmentCount()).isEqualTo(1);
            assertContent(log, log.startOffset(), 1000, MAX);
        }
    }

    @Test
    @Timeout(60)
    void retentionRunsWhileAppendsAndReadsGoOn() throws Exception {
        int total = 20_000;
        AtomicReference<Throwable> error = new AtomicReference<>();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            Thread cleaner = new Thread(() -> {
                try {
                    while (log.endOffset() < total) {
                        log.deleteSegmentsBefore(log.durableOffset() - 500);
                        Thread.sleep(2);
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            });
            Thread tailer = new Thread(() -> {
                try (LogReader r = log.reader(0)) {
                    long expect = 0;
                    while (expect < total) {
                        try {
                            if (r.next()) {
                                assertThat(r.offset()).isEqualTo(expect);
                                assertThat(bytes(r.payload())).isEqualTo(payload(expect, MAX));
                                expect++;
                            } else {
                                Thread.sleep(1);
                            }
                        } catch (StorageException e) {
                            // Fell behind retention: skip ahead, as a stream consumer would.
                            assertThat(e.reason()).isEqualTo(StorageException.Reason.OFFSET_OUT_OF_RANGE);
                            while (true) {
                                expect = Math.max(expect, log.startOffset());
                                try {
                                    r.seek(expect);
                                    break;
                                } catch (StorageException again) {
                                    assertThat(again.reason())
                                            .isEqualTo(StorageException.Reason.OFFSET_OUT_OF_RANGE);
                                }
                            }
                        }
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            });
            cleaner.start();
            tailer.start();
            for (long o = 0; o < total; o++) {
                log.append(ByteBuffer.wrap(payload(o, MAX)), TestSupport.timestamp(o));
            }
            cleaner.join(30_000);
            tailer.join(30_000);
            assertThat(error.get()).isNull();
            log.durable(total - 1).get(10, TimeUnit.SECONDS);
            log.deleteSegmentsBefore(total - 500);
            assertThat(log.startOffset()).isPositive();
            assertContent(log, log.startOffset(), total, MAX);
        }
    }
}
