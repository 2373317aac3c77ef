package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static tern.storage.TestSupport.appendUpTo;
import static tern.storage.TestSupport.assertContent;
import static tern.storage.TestSupport.bytes;
import static tern.storage.TestSupport.payload;
import static tern.storage.TestSupport.small;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RecoveryTest {

    private static final int MAX = 300;

    @TempDir
    Path tmp;

    private Path pristine() throws IOException {
        Path dir = tmp.resolve("pristine");
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            appendUpTo(log, 700, MAX);
            assertThat(log.segmentCount()).isGreaterThanOrEqualTo(4);
        }
        return dir;
    }

    /**
     * Torn tail: cut the last segment at every byte position inside its last records; exactly the whole records
     * before the cut survive and appends continue at the right offset.
     */
    @Test
    @Timeout(120)
    void tornTailAtEveryByteOfTheLastRecords() throws IOException {
        Path pristine = pristine();
        List<Path> segments = TestSupport.segmentFiles(pristine);
        Path tail = segments.get(segments.size() - 1);
        byte[] tailBytes = Files.readAllBytes(tail);
        List<long[]> frames = TestSupport.frames(tail);
        long[] firstCut = frames.get(frames.size() - 3);
        Path dir = tmp.resolve("work");
        int checked = 0;
        for (int cut = (int) firstCut[1]; cut <= tailBytes.length; cut++) {
            TestSupport.deleteRecursively(dir);
            TestSupport.copyDir(pristine, dir);
            Files.write(dir.resolve(tail.getFileName()), java.util.Arrays.copyOf(tailBytes, cut));
            long whole = 0;
            boolean boundary = false;
            for (long[] f : frames) {
                if (f[1] + f[2] <= cut) {
                    whole = f[0] + 1;
                }
                if (f[1] + f[2] == cut) {
                    boundary = true;
                }
            }
            boundary |= cut == firstCut[1];
            final long kept = whole;
            try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
                RecoveryReport report = log.recoveryReport();
                assertThat(log.endOffset()).as("cut at %d", cut).isEqualTo(whole);
                assertThat(report.truncated()).as("cut at %d", cut).isEqualTo(!boundary);
                if (!boundary) {
                    assertThat(report.damage()).isIn(RecoveryReport.Damage.TORN_HEADER,
                            RecoveryReport.Damage.TORN_PAYLOAD);
                    assertThat(report.truncatedAtPosition()).isEqualTo(
                            frames.stream().filter(f -> f[0] == kept).findFirst().orElseThrow()[1]);
                }
                assertThat(Files.size(dir.resolve(tail.getFileName())))
                        .isEqualTo(whole == firstCut[0] ? firstCut[1]
                                : frames.stream().filter(f -> f[0] == kept - 1).mapToLong(f -> f[1] + f[2])
                                .findFirst().orElseThrow());
                appendUpTo(log, whole + 3, MAX);
                assertContent(log, 0, whole + 3, MAX);
            }
            checked++;
        }
        assertThat(checked).isGreaterThan(2 * RecordFormat.HEADER_BYTES);
    }

    /**
     * Bit rot in the tail region: recovery keeps exactly the records before the damaged one, and nothing corrupt is
     * ever returned.
     */
    @Test
    @Timeout(120)
    void bitRotInTheTailKeepsExactlyTheRecordsBeforeIt() throws IOException {
        Path pristine = pristine();
        List<Path> segments = TestSupport.segmentFiles(pristine);
        Path tail = segments.get(segments.size() - 1);
        byte[] tailBytes = Files.readAllBytes(tail);
        List<long[]> frames = TestSupport.frames(tail);
        long regionStart = frames.get(frames.size() - 6)[1];
        Random rnd = new Random(42);
        Path dir = tmp.resolve("work");
        for (int trial = 0; trial < 300; trial++) {
            int pos = (int) (regionStart + rnd.nextInt((int) (tailBytes.length - regionStart)));
            int bit = rnd.nextInt(8);
            long damaged = frames.stream().filter(f -> f[1] <= pos && pos < f[1] + f[2]).findFirst()
                    .orElseThrow()[0];
            TestSupport.deleteRecursively(dir);
            TestSupport.copyDir(pristine, dir);
            byte[] rotten = tailBytes.clone();
            rotten[pos] ^= (byte) (1 << bit);
            Files.write(dir.resolve(tail.getFileName()), rotten);
            try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
                RecoveryReport report = log.recoveryReport();
                assertThat(log.endOffset()).as("flip bit %d of byte %d", bit, pos).isEqualTo(damaged);
                assertThat(report.damage()).isNotEqualTo(RecoveryReport.Damage.NONE);
                assertThat(report.bytesDropped()).isEqualTo(tailBytes.length - frames.stream()
                        .filter(f -> f[0] == damaged).findFirst().orElseThrow()[1]);
                assertContent(log, 0, damaged, MAX);
                appendUpTo(log, damaged + 2, MAX);
                assertContent(log, 0, damaged + 2, MAX);
            }
        }
    }

    /** Damage in a sealed segment's last record is caught by the cheap check; later segments are dropped. */
    @Test
    @Timeout(60)
    void damageAtTheEndOfASealedSegmentCutsTheLogThere() throws IOException {
        Path dir = pristine();
        List<Path> segments = TestSupport.segmentFiles(dir);
        Path second = segments.get(1);
        List<long[]> frames = TestSupport.frames(second);
        long[] last = frames.get(frames.size() - 1);
        flipByte(second, last[1] + last[2] - 1);
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            RecoveryReport report = log.recoveryReport();
            assertThat(report.damage()).isEqualTo(RecoveryReport.Damage.CRC_MISMATCH);
            assertThat(report.damagedSegmentBaseOffset()).isEqualTo(frames.get(0)[0]);
            assertThat(report.segmentsDropped()).isEqualTo(segments.size() - 2);
            assertThat(log.endOffset()).isEqualTo(last[0]);
            assertThat(log.segmentCount()).isEqualTo(2);
            assertContent(log, 0, last[0], MAX);
            appendUpTo(log, last[0] + 50, MAX);
            assertContent(log, 0, last[0] + 50, MAX);
        }
        assertThat(TestSupport.segmentFiles(dir).size()).isGreaterThanOrEqualTo(2);
    }

    /**
     * A recycled file sealed before the sync thread cut it: a sealed segment with no index whose records all check
     * out and run up to the next segment's base, followed by stale records of an older segment. Recovery cuts the
     * stale bytes and keeps every later segment (they may hold records confirmed under an interval policy).
     */
    @Test
    @Timeout(60)
    void aStaleTailAfterASealedSegmentsLastRecordIsCutWithoutDroppingLaterSegments() throws IOException {
        Path dir = pristine();
        List<Path> segments = TestSupport.segmentFiles(dir);
        Path second = segments.get(1);
        long size = Files.size(second);
        byte[] stale = Files.readAllBytes(segments.get(0)); // records whose offsets are below the segment's base
        try (FileChannel ch = FileChannel.open(second, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(stale), size);
        }
        Files.delete(dir.resolve(second.getFileName().toString().replace(".log", ".index")));
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            RecoveryReport report = log.recoveryReport();
            assertThat(report.damage()).isEqualTo(RecoveryReport.Damage.NONE);
            assertThat(report.segmentsDropped()).isZero();
            assertThat(log.segmentCount()).isEqualTo(segments.size());
            assertContent(log, 0, 700, MAX);
        }
        assertThat(Files.size(second)).isEqualTo(size);
    }

    /** Bit rot in the middle of a sealed segment is not scanned at open, but a read never returns it. */
    @Test
    @Timeout(60)
    void readsNeverReturnACorruptPayload() throws IOException {
        Path dir = pristine();
        Path first = TestSupport.segmentFiles(dir).get(0);
        List<long[]> frames = TestSupport.frames(first);
        long[] victim = frames.get(frames.size() / 2);
        flipByte(first, victim[1] + victim[2] - 1);
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                    () -> log.read(victim[0]));
            assertThat(e.reason()).isEqualTo(StorageException.Reason.CORRUPT);
            try (LogReader r = log.reader(0)) {
                for (long o = 0; o < victim[0]; o++) {
                    assertThat(r.next()).isTrue();
                    assertThat(bytes(r.payload())).isEqualTo(payload(o, MAX));
                }
                assertThat(org.junit.jupiter.api.Assertions.assertThrows(StorageException.class, r::next).reason())
                        .isEqualTo(StorageException.Reason.CORRUPT);
                r.seek(victim[0] + 1);
                assertThat(r.next()).isTrue();
                assertThat(bytes(r.payload())).isEqualTo(payload(victim[0] + 1, MAX));
            }
            assertThat(log.read(victim[0] + 1).payloadBytes()).isEqualTo(payload(victim[0] + 1, MAX));
        }
    }

    /** Missing or garbage index files are rebuilt from their segments. */
    @Test
    @Timeout(60)
    void missingOrGarbageIndexesAreRebuilt() throws IOException {
        Path dir = pristine();
        Map<String, byte[]> before = TestSupport.snapshot(dir);
        Files.delete(dir.resolve("00000000000000000000.index"));
        List<Path> segments = TestSupport.segmentFiles(dir);
        Path secondIndex = dir.resolve(segments.get(1).getFileName().toString().replace(".log", ".index"));
        Files.write(secondIndex, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Files.write(dir.resolve("00000000000000999999.index"), new byte[10]);
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            assertThat(log.recoveryReport().indexesRebuilt()).isEqualTo(2);
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, 0, 700, MAX);
        }
        assertThat(TestSupport.snapshot(dir)).containsExactlyInAnyOrderEntriesOf(before);
    }

    /**
     * On a full disk a missing index cannot be rewritten: the log still opens (the index is a cache, rebuilt in
     * memory), deletes and shortens nothing, and the next open with space writes the index.
     */
    @Test
    @Timeout(60)
    void aFullDiskDoesNotStopRecoveryFromOpeningTheLog() throws IOException {
        Path dir = pristine();
        Path firstIndex = dir.resolve("00000000000000000000.index");
        Files.delete(firstIndex);
        Map<String, byte[]> before = TestSupport.snapshot(dir);
        FileChannelFactory full = (path, options) -> {
            FileChannel real = FileChannel.open(path, options);
            return new DelegatingFileChannel(real) {
                @Override
                public int write(ByteBuffer src, long position) throws IOException {
                    throw new IOException("No space left on device (injected)");
                }

                @Override
                public int write(ByteBuffer src) throws IOException {
                    throw new IOException("No space left on device (injected)");
                }
            };
        };
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS).withChannelFactory(full))) {
            assertThat(log.recoveryReport().truncated()).isFalse();
            assertContent(log, 0, 700, MAX);
        }
        assertThat(firstIndex).doesNotExist();
        Map<String, byte[]> after = TestSupport.snapshot(dir);
        for (Map.Entry<String, byte[]> e : before.entrySet()) {
            assertThat(after.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.ALWAYS))) {
            assertThat(log.recoveryReport().indexesRebuilt()).isEqualTo(1);
            assertContent(log, 0, 700, MAX);
        }
        assertThat(firstIndex).exists();
    }

    /** An index that lies (valid header, wrong entries) costs a scan, never a wrong answer. */
    @Test
    @Timeout(60)
    void aLyingIndexIsDetectedOnRead() throws IOException {
        Path dir = pristine();
        Path index = dir.resolve("00000000000000000000.index");
        byte[] b = Files.readAllBytes(index);
        ByteBuffer buf = ByteBuffer.wrap(b);
        int count = buf.getInt(40);
        assertThat(count).isGreaterThan(2);
        // Shift every entry's position by 8 bytes and fix up both CRCs so that the file looks valid.
        for (int i = 0; i < count; i++) {
            int at = IndexFile.HEADER_BYTES + i * 8 + 4;
            buf.putInt(at, buf.getInt(at) + 8);
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, IndexFile.HEADER_BYTES, count * 8);
        buf.putInt(44, (int) crc.getValue());
        crc.reset();
        crc.update(b, 0, 48);
        buf.putInt(48, (int) crc.getValue());
        Files.write(index, b);
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            for (long o = 0; o < 700; o++) {
                assertThat(log.read(o).payloadBytes()).isEqualTo(payload(o, MAX));
            }
        }
    }

    /** A kill after any prefix of recovery's actions, then recovery again, gives the same state as one recovery. */
    @Test
    @Timeout(120)
    void recoveryIsIdempotentWhateverStepItIsKilledAt() throws IOException {
        Path damaged = tmp.resolve("damaged");
        TestSupport.copyDir(pristine(), damaged);
        List<Path> segments = TestSupport.segmentFiles(damaged);
        // Tear the second segment's end (as if the power failed right after a roll), drop the first index,
        // and leave a stray index behind.
        Path second = segments.get(1);
        try (FileChannel ch = FileChannel.open(second, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 5);
        }
        Files.delete(damaged.resolve("00000000000000000000.index"));
        Files.write(damaged.resolve("00000000000000012345.index"), new byte[3]);

        LogConfig config = small(SyncPolicy.ALWAYS);
        Path once = tmp.resolve("once");
        TestSupport.copyDir(damaged, once);
        long expectedEnd;
        try (SegmentedLog log = SegmentedLog.open(once, config)) {
            RecoveryReport report = log.recoveryReport();
            assertThat(report.damage()).isEqualTo(RecoveryReport.Damage.TORN_PAYLOAD);
            assertThat(report.segmentsDropped()).isEqualTo(segments.size() - 2);
            assertThat(report.indexesRebuilt()).isEqualTo(1);
            expectedEnd = log.endOffset();
        }
        Map<String, byte[]> expected = TestSupport.snapshot(once);

        Recovery.Plan plan = Recovery.plan(damaged, config);
        assertThat(plan.actions().size()).isGreaterThan(4);
        for (int k = 0; k <= plan.actions().size(); k++) {
            Path dir = tmp.resolve("killed-" + k);
            TestSupport.copyDir(damaged, dir);
            Recovery.Plan p = Recovery.plan(dir, config);
            for (int i = 0; i < k; i++) {
                p.actions().get(i).apply(config);
            }
            // Killed here; and a second kill in the middle of the second recovery too, for good measure.
            Recovery.Plan again = Recovery.plan(dir, config);
            for (int i = 0; i < again.actions().size() / 2; i++) {
                again.actions().get(i).apply(config);
            }
            try (SegmentedLog log = SegmentedLog.open(dir, config)) {
                assertThat(log.endOffset()).as("killed after %d actions", k).isEqualTo(expectedEnd);
                assertContent(log, 0, expectedEnd, MAX);
            }
            assertThat(TestSupport.snapshot(dir)).as("killed after %d actions", k)
                    .containsOnlyKeys(expected.keySet());
            for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                assertThat(TestSupport.snapshot(dir).get(e.getKey())).as("%s after %d actions", e.getKey(), k)
                        .isEqualTo(e.getValue());
            }
        }
    }

    /** A hole in the middle of the segment sequence (e.g. someone deleted a file) cuts the log at the hole. */
    @Test
    @Timeout(60)
    void aMissingMiddleSegmentIsAGap() throws IOException {
        Path dir = pristine();
        List<Path> segments = TestSupport.segmentFiles(dir);
        Files.delete(segments.get(2));
        long secondEnd = TestSupport.frames(segments.get(1)).stream().mapToLong(f -> f[0]).max().orElseThrow() + 1;
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            assertThat(log.recoveryReport().damage()).isEqualTo(RecoveryReport.Damage.SEGMENT_GAP);
            assertThat(log.endOffset()).isEqualTo(secondEnd);
            assertContent(log, 0, secondEnd, MAX);
        }
    }

    /** Recovery reads the tail fully but only headers and last records of sealed segments. */
    @Test
    @Timeout(60)
    void recoveryScansOnlyTheTail() throws IOException {
        Path dir = pristine();
        List<Path> segments = TestSupport.segmentFiles(dir);
        int tailRecords = TestSupport.frames(segments.get(segments.size() - 1)).size();
        try (SegmentedLog log = SegmentedLog.open(dir, small(SyncPolicy.NEVER))) {
            assertThat(log.recoveryReport().recordsScanned()).isEqualTo(tailRecords);
            assertThat(log.recoveryReport().recordsKept()).isEqualTo(700);
        }
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x10)).position(0);
            ch.write(one, position);
        }
    }
}
