package tern.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static tern.storage.TestSupport.appendUpTo;
import static tern.storage.TestSupport.small;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SyncPolicyTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void neverReallySkipsForceAndConfirmsRightAfterTheWrite() {
        FaultyFiles files = new FaultyFiles();
        LogConfig config = small(SyncPolicy.NEVER).withChannelFactory(files);
        AtomicInteger confirmed = new AtomicInteger();
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            for (int i = 0; i < 3000; i++) {
                long o = log.append(ByteBuffer.allocate(100), i);
                int before = confirmed.get();
                log.whenDurable(o, (off, failure) -> {
                    assertThat(failure).isNull();
                    confirmed.incrementAndGet();
                });
                assertThat(confirmed.get()).as("confirmed inline").isEqualTo(before + 1);
            }
            assertThat(log.segmentCount()).isGreaterThan(3);
            assertThat(log.durableOffset()).isEqualTo(3000);
            log.deleteSegmentsBefore(1000);
        }
        try (SegmentedLog log = SegmentedLog.open(dir, config)) {
            assertThat(log.endOffset()).isEqualTo(3000);
        }
        assertThat(files.forces.get()).as("force calls of any kind under NEVER").isZero();
        assertThat(files.logWrites.get()).isGreaterThanOrEqualTo(3000);
    }

    @Test
    @Timeout(60)
    void groupCommitCoalescesManyAppendsIntoFewerForces() throws Exception {
        FaultyFiles files = new FaultyFiles();
        int n = 20_000;
        CountDownLatch all = new CountDownLatch(n);
        AtomicLong lastConfirmed = new AtomicLong(-1);
        AtomicInteger outOfOrder = new AtomicInteger();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS).withChannelFactory(files))) {
            int forcesAtOpen = files.logForces.get();
            for (int i = 0; i < n; i++) {
                long o = log.append(ByteBuffer.allocate(200), i);
                log.whenDurable(o, (off, failure) -> {
                    assertThat(failure).isNull();
                    if (lastConfirmed.getAndSet(off) > off) {
                        outOfOrder.incrementAndGet();
                    }
                    all.countDown();
                });
            }
            assertThat(all.await(30, TimeUnit.SECONDS)).isTrue();
            int forces = files.logForces.get() - forcesAtOpen;
            assertThat(forces).isPositive().isLessThan(n / 2);
            assertThat(log.durableOffset()).isEqualTo(n);
            assertThat(log.syncedOffset()).isEqualTo(n);
            assertThat(outOfOrder.get()).isZero();
            System.out.printf("group commit: %d appends, %d segment fsyncs%n", n, forces);
        }
    }

    @Test
    @Timeout(60)
    void alwaysNeverConfirmsBeforeAForceCoveringTheRecord() throws Exception {
        // A force that started before a record was appended cannot cover it: at least one force must start after
        // the append and before its confirmation (counted through the channel seam, never timed).
        FaultyFiles files = new FaultyFiles();
        int n = 2000;
        CountDownLatch all = new CountDownLatch(n);
        AtomicInteger violations = new AtomicInteger();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS).withChannelFactory(files))) {
            for (int i = 0; i < n; i++) {
                int forcesAtAppend = files.logForces.get();
                long o = log.append(ByteBuffer.allocate(50), i);
                log.whenDurable(o, (off, failure) -> {
                    if (failure != null || files.logForces.get() <= forcesAtAppend) {
                        violations.incrementAndGet();
                    }
                    all.countDown();
                });
            }
            assertThat(all.await(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(violations.get()).isZero();
    }

    @Test
    @Timeout(60)
    void intervalConfirmsAtWriteTimeAndSyncsInTheBackground() throws Exception {
        FaultyFiles files = new FaultyFiles();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.interval(20)).withChannelFactory(files))) {
            int forcesAtOpen = files.logForces.get();
            appendUpTo(log, 500, 100);
            AtomicInteger confirmed = new AtomicInteger();
            log.whenDurable(499, (o, f) -> confirmed.incrementAndGet());
            assertThat(confirmed.get()).isEqualTo(1);
            assertThat(log.durableOffset()).isEqualTo(500);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (log.syncedOffset() < 500 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(log.syncedOffset()).isEqualTo(500);
            int forces = files.logForces.get() - forcesAtOpen;
            assertThat(forces).isPositive().isLessThan(100);
        }
    }
}
