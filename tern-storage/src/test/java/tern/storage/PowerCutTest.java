package tern.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Simulated power cuts ({@link PowerCutFiles}): whatever was not fsynced may be lost, reordered or torn. Under
 * {@link SyncPolicy#ALWAYS} every record ever confirmed must survive, intact and in order. The same harness run with
 * {@link SyncPolicy#NEVER} must detect loss, which proves the harness can see it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PowerCutTest {

    @TempDir
    Path dir;

    /** Result of one run of the harness. */
    record Run(int cuts, int cutsThatLostConfirmedRecords, long confirmedChecked) {
    }

    @Test
    @Timeout(120)
    void alwaysLosesNothingThatWasConfirmed() throws Exception {
        Run run = powerCuts(SyncPolicy.ALWAYS, 25, 11);
        assertThat(run.cutsThatLostConfirmedRecords()).isZero();
        assertThat(run.confirmedChecked()).isPositive();
    }

    @Test
    @Timeout(120)
    void theHarnessDetectsLossWhenFsyncIsSkipped() throws Exception {
        Run run = powerCuts(SyncPolicy.NEVER, 10, 12);
        assertThat(run.cutsThatLostConfirmedRecords()).isPositive();
    }

    private Run powerCuts(SyncPolicy policy, int cuts, long seed) throws Exception {
        Random rnd = new Random(seed);
        LogConfig base = TestSupport.small(policy).withSegmentBytes(8 << 10).withMaxRecordBytes(2000)
                .withIndexIntervalBytes(512);
        List<byte[]> model = new ArrayList<>();
        int lossy = 0;
        long confirmedChecked = 0;
        for (int cut = 0; cut < cuts; cut++) {
            PowerCutFiles files = new PowerCutFiles(new Random(rnd.nextLong()));
            AtomicLong confirmed = new AtomicLong(-1);
            SegmentedLog log = SegmentedLog.open(dir, base.withChannelFactory(files));
            assertThat(log.endOffset()).isEqualTo(model.size());
            int appends = 50 + rnd.nextInt(400);
            try {
                for (int i = 0; i < appends; i++) {
                    byte[] p = new byte[rnd.nextInt(1500)];
                    rnd.nextBytes(p);
                    long o = log.append(ByteBuffer.wrap(p), i);
                    assertThat(o).isEqualTo(model.size());
                    model.add(p);
                    log.whenDurable(o, (off, failure) -> {
                        if (failure == null) {
                            confirmed.accumulateAndGet(off, Math::max);
                        }
                    });
                    if (rnd.nextInt(50) == 0) {
                        Thread.sleep(rnd.nextInt(3));
                    }
                }
                if (rnd.nextBoolean()) {
                    Thread.sleep(rnd.nextInt(10));
                }
            } finally {
                files.cut();
                try {
                    log.close();
                } catch (StorageException expected) {
                    // the final fsync hit the dead disk
                }
            }
            files.applyCut();
            long mustSurvive = confirmed.get();
            try (SegmentedLog reopened = SegmentedLog.open(dir, base)) {
                long end = reopened.endOffset();
                long start = reopened.startOffset();
                if (end <= mustSurvive || (start > 0 && mustSurvive >= 0)) {
                    lossy++;
                }
                if (policy instanceof SyncPolicy.Always) {
                    // Segment files are made durable (directory fsync) before anything in them is confirmed.
                    assertThat(start).isZero();
                }
                confirmedChecked += Math.min(end, mustSurvive + 1);
                // Whatever survived is intact and sits at the offsets it was appended at.
                assertThat(end).isLessThanOrEqualTo(model.size());
                try (LogReader r = reopened.reader(start)) {
                    for (int o = (int) start; o < end; o++) {
                        assertThat(r.next()).isTrue();
                        assertThat(TestSupport.bytes(r.payload())).as("offset %d after cut %d", o, cut)
                                .isEqualTo(model.get(o));
                    }
                    assertThat(r.next()).isFalse();
                }
                model.subList((int) end, model.size()).clear();
            }
        }
        return new Run(cuts, lossy, confirmedChecked);
    }
}
