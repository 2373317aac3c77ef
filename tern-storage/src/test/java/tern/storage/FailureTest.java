package tern.storage;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static tern.storage.TestSupport.appendUpTo;
import static tern.storage.TestSupport.assertContent;
import static tern.storage.TestSupport.payload;
import static tern.storage.TestSupport.small;
import static tern.storage.TestSupport.timestamp;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FailureTest {

    private static final int MAX = 500;

    @TempDir
    Path dir;

    /** What a callback was told. */
    record Outcome(long offset, StorageException failure) {
    }

    @Test
    @Timeout(60)
    void failedFsyncIsFatalAndNeverFollowedByADurabilityNotification() throws Exception {
        FaultyFiles files = new FaultyFiles();
        LogConfig config = small(SyncPolicy.ALWAYS).withChannelFactory(files);
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        long durableBefore;
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 100, MAX);
            log.durable(99).get(10, TimeUnit.SECONDS);
            durableBefore = log.durableOffset();
            assertThat(durableBefore).isEqualTo(100);

            files.failForce = true;
            CountDownLatch failed = new CountDownLatch(1);
            for (long o = 100; o < 400; o++) {
                long off;
                try {
                    off = log.append(ByteBuffer.wrap(payload(o, MAX)), timestamp(o));
                } catch (StorageException e) {
                    // The sync thread may fail the log while we are still appending.
                    assertThat(e.reason()).isEqualTo(StorageException.Reason.SYNC_FAILED);
                    assertThat(e.fatal()).isTrue();
                    break;
                }
                log.whenDurable(off, (offset, failure) -> {
                    outcomes.add(new Outcome(offset, failure));
                    if (failure != null) {
                        failed.countDown();
                    }
                });
            }
            assertThat(failed.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(log.isFailed()).isTrue();
            assertThat(log.failure().reason()).isEqualTo(StorageException.Reason.SYNC_FAILED);

            // The disk "recovers": nothing covered by the failed fsync may be confirmed any more.
            files.failForce = false;
            long end = log.endOffset();
            StorageException refused = assertThrows(StorageException.class,
                    () -> log.append(ByteBuffer.allocate(10), 0));
            assertThat(refused.reason()).isEqualTo(StorageException.Reason.SYNC_FAILED);
            assertThat(refused.fatal()).isTrue();
            for (long o = durableBefore; o < end; o++) {
                log.whenDurable(o, (offset, failure) -> outcomes.add(new Outcome(offset, failure)));
            }
            Thread.sleep(200);
            assertThat(log.durableOffset()).isEqualTo(durableBefore);
            // Already-durable records stay confirmable.
            assertThat(log.durable(50).get(1, TimeUnit.SECONDS)).isEqualTo(50L);
        }
        assertThat(outcomes).isNotEmpty();
        for (Outcome o : outcomes) {
            assertThat(o.failure()).as("offset %d", o.offset()).isNotNull();
            assertThat(o.failure().reason()).isEqualTo(StorageException.Reason.SYNC_FAILED);
        }
        // Exactly one outcome per registration: the 300 (or fewer) first ones plus the re-registrations.
        assertThat(outcomes.stream().map(Outcome::offset).filter(o -> o >= durableBefore).count())
                .isEqualTo(outcomes.size());

        // Reopen = recovery from disk; the log works again.
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            long end = log.endOffset();
            assertThat(end).isGreaterThanOrEqualTo(durableBefore);
            assertContent(log, 0, end, MAX);
            appendUpTo(log, end + 10, MAX);
            log.durable(end + 9).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void diskFullWriteIsRefusedThenAppendsSucceedOnceSpaceReturns() throws Exception {
        FaultyFiles files = new FaultyFiles();
        LogConfig config = small(SyncPolicy.ALWAYS).withChannelFactory(files);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 50, MAX);
            Path tail = TestSupport.segmentFiles(dir).get(TestSupport.segmentFiles(dir).size() - 1);
            long sizeBefore = Files.size(tail);
            files.spaceLeft = 100;
            long o = log.endOffset();
            StorageException full = null;
            for (int i = 0; i < 5 && full == null; i++) {
                try {
                    long got = log.append(ByteBuffer.wrap(new byte[400]), 0);
                    assertThat(got).isEqualTo(o); // never reached: 100 bytes cannot hold 424
                } catch (StorageException e) {
                    full = e;
                }
            }
            assertThat(full).isNotNull();
            assertThat(full.reason()).isEqualTo(StorageException.Reason.DISK_FULL);
            assertThat(full.fatal()).isFalse();
            assertThat(log.isFailed()).isFalse();
            assertThat(log.endOffset()).isEqualTo(o);
            assertThat(Files.size(tail)).as("partial write cut back").isEqualTo(sizeBefore);

            // Still full: a batch is refused as a whole.
            files.spaceLeft = 1000;
            ByteBuffer[] batch = {ByteBuffer.allocate(300), ByteBuffer.allocate(300), ByteBuffer.allocate(600)};
            assertThat(assertThrows(StorageException.class, () -> log.appendBatch(batch, 0, 3, 0)).reason())
                    .isEqualTo(StorageException.Reason.DISK_FULL);
            assertThat(log.endOffset()).isEqualTo(o);
            assertThat(Files.size(tail)).isEqualTo(sizeBefore);

            files.spaceLeft = Long.MAX_VALUE;
            appendUpTo(log, 80, MAX);
            log.durable(79).get(10, TimeUnit.SECONDS);
            assertContent(log, 0, 80, MAX);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, 0, 80, MAX);
        }
    }

    @Test
    @Timeout(60)
    void diskFullWhileRollingOrWritingALargeRecordLeavesTheLogConsistent() throws Exception {
        FaultyFiles files = new FaultyFiles();
        LogConfig config = small(SyncPolicy.NEVER).withChannelFactory(files).withMaxRecordBytes(200_000)
                .withSegmentBytes(300_000);
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            appendUpTo(log, 10, MAX);
            files.spaceLeft = 70_000;
            StorageException e = assertThrows(StorageException.class,
                    () -> log.append(ByteBuffer.allocate(150_000), 0));
            assertThat(e.reason()).isEqualTo(StorageException.Reason.DISK_FULL);
            files.spaceLeft = Long.MAX_VALUE;
            appendUpTo(log, 20, MAX);
            assertContent(log, 0, 20, MAX);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, config.withChannelFactory(FileChannelFactory.DEFAULT))) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, 0, 20, MAX);
        }
    }

    @Test
    @Timeout(60)
    void failedNthWriteIsCutBackAndNotFatal() {
        FaultyFiles files = new FaultyFiles();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS).withChannelFactory(files))) {
            appendUpTo(log, 30, MAX);
            files.failWriteNumber = files.logWrites.get() + 1;
            StorageException e = assertThrows(StorageException.class,
                    () -> log.append(ByteBuffer.wrap(payload(30, MAX)), timestamp(30)));
            assertThat(e.reason()).isEqualTo(StorageException.Reason.IO_ERROR);
            assertThat(e.fatal()).isFalse();
            appendUpTo(log, 60, MAX);
            assertContent(log, 0, 60, MAX);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, 0, 60, MAX);
        }
    }

    @Test
    @Timeout(60)
    void aWriteThatCannotBeCutBackFailsTheLog() throws Exception {
        FaultyFiles files = new FaultyFiles();
        List<Outcome> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER).withChannelFactory(files))) {
            appendUpTo(log, 30, MAX);
            files.failWriteNumber = files.logWrites.get() + 1;
            files.failTruncate = true;
            StorageException e = assertThrows(StorageException.class,
                    () -> log.append(ByteBuffer.wrap(payload(30, MAX)), timestamp(30)));
            assertThat(e.fatal()).isTrue();
            assertThat(log.isFailed()).isTrue();
            assertThat(assertThrows(StorageException.class, () -> log.append(ByteBuffer.allocate(1), 0)).fatal())
                    .isTrue();
            log.whenDurable(29, (o, f) -> outcomes.add(new Outcome(o, f)));
        }
        // Under NEVER everything written was confirmed at write time and nothing was ever synced.
        assertThat(outcomes).hasSize(1);
        // The torn half-record is cut at reopen.
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            assertThat(log.recoveryReport().truncated()).isTrue();
            assertContent(log, 0, 30, MAX);
        }
    }

    @Test
    @Timeout(60)
    void closeFailsCallbacksThatAreStillWaiting() throws Exception {
        FaultyFiles files = new FaultyFiles();
        files.failForce = false;
        List<Outcome> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
        SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS).withChannelFactory(files));
        appendUpTo(log, 10, MAX);
        log.close();
        // After close: confirmed records are still reported durable, nothing new is accepted.
        log.whenDurable(9, (o, f) -> outcomes.add(new Outcome(o, f)));
        assertThat(outcomes).hasSize(1);
        assertThat(outcomes.get(0).failure()).isNull();
        assertThat(log.durableOffset()).isEqualTo(10);
    }
}
