package tern.storage;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static tern.storage.TestSupport.appendUpTo;
import static tern.storage.TestSupport.assertContent;
import static tern.storage.TestSupport.bytes;
import static tern.storage.TestSupport.payload;
import static tern.storage.TestSupport.small;
import static tern.storage.TestSupport.timestamp;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SegmentedLogTest {

    private static final int MAX = 700;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void emptyLogStartsAtZero() {
        try (SegmentedLog log = SegmentedLog.open(dir, LogConfig.DEFAULT)) {
            assertThat(log.startOffset()).isZero();
            assertThat(log.endOffset()).isZero();
            assertThat(log.durableOffset()).isZero();
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertThat(dir.resolve("00000000000000000000.log")).exists();
            try (LogReader r = log.reader(0)) {
                assertThat(r.next()).isFalse();
            }
        }
    }

    @Test
    @Timeout(60)
    void roundTripAcrossSeveralRollsAndReopen() throws Exception {
        LogConfig config = small(SyncPolicy.ALWAYS);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 2000, MAX);
            assertThat(log.segmentCount()).isGreaterThan(5);
            assertContent(log, 0, 2000, MAX);
            log.durable(1999).get(10, TimeUnit.SECONDS);
            assertThat(log.durableOffset()).isEqualTo(2000);
        }
        List<Path> segments = TestSupport.segmentFiles(dir);
        assertThat(segments).hasSizeGreaterThan(5);
        for (Path p : segments) {
            assertThat(Files.size(p)).isLessThanOrEqualTo(config.segmentBytes());
        }
        assertThat(segments.get(0).getFileName().toString()).isEqualTo("00000000000000000000.log");
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertThat(log.recoveryReport().recordsKept()).isEqualTo(2000);
            assertContent(log, 0, 2000, MAX);
            appendUpTo(log, 3000, MAX);
            assertContent(log, 0, 3000, MAX);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertContent(log, 0, 3000, MAX);
        }
    }

    @Test
    @Timeout(60)
    void readFromEveryOffset() {
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            appendUpTo(log, 1500, MAX);
            for (long o = 0; o < 1500; o++) {
                LogRecord r = log.read(o);
                assertThat(r.offset()).isEqualTo(o);
                assertThat(r.timestampMillis()).isEqualTo(timestamp(o));
                assertThat(r.payloadBytes()).isEqualTo(payload(o, MAX));
            }
            for (long o = 0; o <= 1500; o += 7) {
                try (LogReader reader = log.reader(o)) {
                    for (long e = o; e < Math.min(o + 20, 1500); e++) {
                        assertThat(reader.next()).isTrue();
                        assertThat(reader.offset()).isEqualTo(e);
                        assertThat(bytes(reader.payload())).isEqualTo(payload(e, MAX));
                    }
                }
            }
            assertThatThrownBy(() -> log.read(1500)).isInstanceOf(StorageException.class)
                    .extracting(e -> ((StorageException) e).reason())
                    .isEqualTo(StorageException.Reason.OFFSET_OUT_OF_RANGE);
            assertThatThrownBy(() -> log.reader(1501)).isInstanceOf(StorageException.class);
        }
    }

    @Test
    @Timeout(60)
    void readEveryOffsetAfterReopenUsesPersistedIndexes() {
        LogConfig config = small(SyncPolicy.ALWAYS);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 1200, MAX);
        }
        assertThat(dir.resolve("00000000000000000000.index")).exists();
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            for (long o = 1199; o >= 0; o--) {
                assertThat(log.read(o).payloadBytes()).isEqualTo(payload(o, MAX));
            }
        }
    }

    @Test
    @Timeout(60)
    void byteArrayAndBatchAppendsAndLargeRecords() {
        LogConfig config = LogConfig.DEFAULT.withSegmentBytes(1 << 20).withMaxRecordBytes(300_000)
                .withSyncPolicy(SyncPolicy.ALWAYS);
        Random rnd = new Random(7);
        List<byte[]> expected = new ArrayList<>();
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            for (int round = 0; round < 40; round++) {
                switch (round % 3) {
                    case 0 -> {
                        byte[] b = new byte[rnd.nextInt(2000)];
                        rnd.nextBytes(b);
                        byte[] padded = new byte[b.length + 10];
                        System.arraycopy(b, 0, padded, 5, b.length);
                        assertThat(log.append(padded, 5, b.length, 1)).isEqualTo(expected.size());
                        expected.add(b);
                    }
                    case 1 -> {
                        int n = 1 + rnd.nextInt(50);
                        ByteBuffer[] batch = new ByteBuffer[n + 2];
                        for (int i = 0; i < batch.length; i++) {
                            byte[] b = new byte[rnd.nextInt(i == 3 ? 100_000 : 3000)];
                            rnd.nextBytes(b);
                            batch[i] = ByteBuffer.wrap(b);
                        }
                        long first = log.appendBatch(batch, 1, n, 2);
                        assertThat(first).isEqualTo(expected.size());
                        for (int i = 1; i <= n; i++) {
                            assertThat(batch[i].position()).isZero();
                            expected.add(bytes(batch[i]));
                        }
                    }
                    default -> {
                        byte[] b = new byte[rnd.nextInt(300_000)];
                        rnd.nextBytes(b);
                        ByteBuffer direct = ByteBuffer.allocateDirect(b.length);
                        direct.put(b).flip();
                        assertThat(log.append(direct, 3)).isEqualTo(expected.size());
                        assertThat(direct.remaining()).isEqualTo(b.length);
                        expected.add(b);
                    }
                }
            }
            assertThat(log.appendBatch(new ByteBuffer[0], 0, 0, 0)).isEqualTo(expected.size());
            assertThat(log.segmentCount()).isGreaterThan(1);
            check(log, expected);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            check(log, expected);
        }
    }

    private static void check(SegmentedLog log, List<byte[]> expected) {
        assertThat(log.endOffset()).isEqualTo(expected.size());
        try (LogReader r = log.reader(0)) {
            for (int i = 0; i < expected.size(); i++) {
                assertThat(r.next()).isTrue();
                byte[] copy = new byte[r.payloadLength()];
                r.copyPayload(copy, 0);
                assertThat(copy).isEqualTo(expected.get(i));
            }
            assertThat(r.next()).isFalse();
        }
        for (int i = 0; i < expected.size(); i += 5) {
            assertThat(log.read(i).payloadBytes()).isEqualTo(expected.get(i));
        }
    }

    @Test
    @Timeout(60)
    void aBatchOfOneRecordLargerThanASegmentIsPlacedLikeAnAppend() {
        LogConfig config = small(SyncPolicy.NEVER).withMaxRecordBytes(48 << 10);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 3, MAX);
            byte[] big = new byte[40 << 10];
            new java.util.Random(7).nextBytes(big);
            assertThat(log.appendBatch(new ByteBuffer[] {ByteBuffer.wrap(big)}, 0, 1, 0)).isEqualTo(3);
            assertThat(log.append(ByteBuffer.wrap(big), 0)).isEqualTo(4);
            ByteBuffer[] two = {ByteBuffer.wrap(big), ByteBuffer.wrap(big)};
            assertThat(org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                    () -> log.appendBatch(two, 0, 2, 0)).reason()).isEqualTo(StorageException.Reason.RECORD_TOO_LARGE);
            assertThat(log.read(3).payloadBytes()).isEqualTo(big);
            assertThat(log.read(4).payloadBytes()).isEqualTo(big);
            assertThat(log.endOffset()).isEqualTo(5);
        }
    }

    @Test
    @Timeout(60)
    void recordTooLargeIsRefusedAndTheLogGoesOn() {
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            appendUpTo(log, 10, MAX);
            StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                    () -> log.append(ByteBuffer.allocate((8 << 10) + 1), 0));
            assertThat(e.reason()).isEqualTo(StorageException.Reason.RECORD_TOO_LARGE);
            assertThat(e.fatal()).isFalse();
            ByteBuffer[] batch = new ByteBuffer[10];
            for (int i = 0; i < batch.length; i++) {
                batch[i] = ByteBuffer.allocate(8 << 10);
            }
            assertThat(org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                    () -> log.appendBatch(batch, 0, batch.length, 0)).reason())
                    .isEqualTo(StorageException.Reason.RECORD_TOO_LARGE);
            appendUpTo(log, 20, MAX);
            assertContent(log, 0, 20, MAX);
        }
    }

    @Test
    @Timeout(60)
    void closedLogRefusesAppendsAndSecondOpenIsRefused() {
        SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS));
        assertThatThrownBy(() -> SegmentedLog.open(dir, small(SyncPolicy.ALWAYS)))
                .isInstanceOf(StorageException.class).hasMessageContaining("already open");
        appendUpTo(log, 3, MAX);
        log.close();
        log.close();
        StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                () -> log.append(ByteBuffer.allocate(1), 0));
        assertThat(e.reason()).isEqualTo(StorageException.Reason.CLOSED);
        try (SegmentedLog again = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            assertThat(again.endOffset()).isEqualTo(3);
        }
    }

    @Test
    @Timeout(60)
    void tailingReadersSeeEveryRecordWhileTheWriterAppends() throws Exception {
        int total = 30_000;
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            int readers = 3;
            CountDownLatch done = new CountDownLatch(readers);
            AtomicReference<Throwable> error = new AtomicReference<>();
            for (int t = 0; t < readers; t++) {
                Thread th = new Thread(() -> {
                    try (LogReader r = log.reader(0)) {
                        long expect = 0;
                        while (expect < total) {
                            if (r.next()) {
                                assertThat(r.offset()).isEqualTo(expect);
                                assertThat(bytes(r.payload())).isEqualTo(payload(expect, 300));
                                expect++;
                            } else {
                                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
                            }
                        }
                    } catch (Throwable e) {
                        error.compareAndSet(null, e);
                    } finally {
                        done.countDown();
                    }
                });
                th.setDaemon(true);
                th.start();
            }
            Thread randomReader = new Thread(() -> {
                Random rnd = new Random(1);
                try {
                    while (done.getCount() > 0) {
                        long end = log.endOffset();
                        if (end > 0) {
                            long o = rnd.nextLong(end);
                            assertThat(log.read(o).payloadBytes()).isEqualTo(payload(o, 300));
                        }
                    }
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                }
            });
            randomReader.setDaemon(true);
            randomReader.start();
            appendUpTo(log, total, 300);
            assertThat(done.await(50, TimeUnit.SECONDS)).isTrue();
            randomReader.join(10_000);
            assertThat(error.get()).isNull();
        }
    }

    @Test
    @Timeout(60)
    void durableFutureCompletesAndRejectsUnwrittenOffsets() throws Exception {
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            appendUpTo(log, 5, MAX);
            assertThat(log.durable(4).get(10, TimeUnit.SECONDS)).isEqualTo(4L);
            assertThat(log.durable(0).isDone()).isTrue();
            assertThatThrownBy(() -> log.durable(5)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    @Timeout(60)
    void loweringMaxRecordBytesRefusesToOpenInsteadOfDroppingRecords() throws Exception {
        LogConfig config = small(SyncPolicy.NEVER);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            log.append(ByteBuffer.allocate(5000), 0);
        }
        var before = TestSupport.snapshot(dir);
        StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                () -> SegmentedLog.open(dir, config.withMaxRecordBytes(4000)));
        assertThat(e.reason()).isEqualTo(StorageException.Reason.CONFIG_MISMATCH);
        assertThat(TestSupport.snapshot(dir)).containsExactlyInAnyOrderEntriesOf(before);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.endOffset()).isEqualTo(1);
        }
    }

    @Test
    @Timeout(60)
    void configValidation() {
        assertThatThrownBy(() -> LogConfig.DEFAULT.withSegmentBytes(10))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SyncPolicy.interval(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(LogConfig.DEFAULT.segmentBytes()).isEqualTo(64 << 20);
        assertThat(LogConfig.DEFAULT.indexIntervalBytes()).isEqualTo(4096);
        assertThat(LogConfig.DEFAULT.syncPolicy()).isEqualTo(SyncPolicy.ALWAYS);
    }
}
