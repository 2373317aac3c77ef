package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The settlement log's bound on records it cannot write (a full disk, or no file yet). */
@Timeout(20)
class SettlementLogTest {
    private static final int FIT = SettlementLog.MAX_BUFFER_BYTES / SettlementLog.RECORD_BYTES;

    @TempDir
    Path dir;

    @Test
    void unwritableRecordsAreBoundedAndMakeTheNextCheckpointDueWhichHoldsTheWholeState() throws Exception {
        FaultyFiles files = new FaultyFiles();
        SettlementLog log = SettlementLog.open(dir, files, new SettlementLog.Recovered());
        log.beginCheckpoint(0).commit();
        files.everyWriteFails = true;
        for (int i = 0; i < FIT + 10_000; i++) {
            log.delivered(1, i + 1); // a message nacked and redelivered over and over while the disk is full
        }
        assertThat(log.bufferCapacity()).isEqualTo(SettlementLog.MAX_BUFFER_BYTES);
        assertThat(log.droppedRecords()).isEqualTo(10_000);
        assertThat(log.checkpointDue(1)).isTrue();

        files.everyWriteFails = false;
        SettlementLog.Checkpoint cp = log.beginCheckpoint(1); // the queue streams its live state from memory
        cp.delivered(1, FIT + 10_000);
        cp.commit();
        assertThat(log.droppedRecords()).isZero();
        assertThat(log.bufferCapacity()).as("back to one batch").isLessThan(SettlementLog.MAX_BUFFER_BYTES);
        assertThat(log.checkpointDue(1)).isFalse();
        log.settled(2);
        log.flush();
        log.close();

        SettlementLog.Recovered r = new SettlementLog.Recovered();
        SettlementLog.open(dir, files, r).close();
        assertThat(r.lowWatermark).isEqualTo(1);
        assertThat(r.deliveryCounts).containsEntry(1L, FIT + 10_000);
        assertThat(r.settled).containsExactly(2L);
    }

    @Test
    void withoutAFileYetRecordsAreKeptUpToTheBound() throws Exception {
        // A queue recovered on a full disk has no current file until its deferred checkpoint is written.
        SettlementLog log = SettlementLog.open(dir, new FaultyFiles(), new SettlementLog.Recovered());
        for (int i = 0; i < FIT; i++) {
            log.settled(i);
        }
        assertThat(log.droppedRecords()).isZero();
        log.settled(FIT);
        assertThat(log.droppedRecords()).isEqualTo(1);
        assertThat(log.bufferCapacity()).isEqualTo(SettlementLog.MAX_BUFFER_BYTES);
        log.close();
    }
}
