package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Shared helpers for the storage tests. */
final class TestSupport {

    private TestSupport() {
    }

    /** Small segments so that tests roll often; NEVER keeps them fast unless a test needs fsync. */
    static LogConfig small(SyncPolicy policy) {
        return LogConfig.DEFAULT.withMaxRecordBytes(8 << 10).withSegmentBytes(32 << 10).withIndexIntervalBytes(256)
                .withSyncPolicy(policy);
    }

    /** A deterministic payload for an offset: its length varies in [0, maxLen] and every byte depends on it. */
    static byte[] payload(long offset, int maxLen) {
        int len = Math.floorMod(offset * 7919 + 13, maxLen + 1);
        byte[] b = new byte[len];
        long x = offset * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b[i] = (byte) x;
        }
        return b;
    }

    static long timestamp(long offset) {
        return 1_700_000_000_000L + offset * 10;
    }

    static byte[] bytes(ByteBuffer buf) {
        byte[] b = new byte[buf.remaining()];
        buf.duplicate().get(b);
        return b;
    }

    /** Appends records [log.endOffset(), upTo) with {@link #payload}. */
    static void appendUpTo(SegmentedLog log, long upTo, int maxLen) {
        for (long o = log.endOffset(); o < upTo; o++) {
            byte[] p = payload(o, maxLen);
            assertThat(log.append(ByteBuffer.wrap(p), timestamp(o))).isEqualTo(o);
        }
    }

    /** Asserts that [start, end) of the log holds exactly {@link #payload} records, via a reader and via read(). */
    static void assertContent(SegmentedLog log, long start, long end, int maxLen) {
        assertThat(log.startOffset()).isEqualTo(start);
        assertThat(log.endOffset()).isEqualTo(end);
        try (LogReader r = log.reader(start)) {
            for (long o = start; o < end; o++) {
                assertThat(r.next()).as("record %d", o).isTrue();
                assertThat(r.offset()).isEqualTo(o);
                assertThat(r.timestampMillis()).isEqualTo(timestamp(o));
                assertThat(bytes(r.payload())).as("payload %d", o).isEqualTo(payload(o, maxLen));
            }
            assertThat(r.next()).isFalse();
        }
    }

    static List<Path> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        }
    }

    /** Name to content of every segment and index file: the state that recovery must reproduce. */
    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".log") || n.endsWith(".index")) {
                    m.put(n, Files.readAllBytes(p));
                }
            }
        }
        return m;
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        // The reclaimer may delete retired files meanwhile: wait for it rather than race it.
        try {
            Reclaimer.awaitIdle(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(s.toList());
            all.sort(Comparator.reverseOrder());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** File positions of every record of a segment file, by parsing frames (the file must be intact). */
    static List<long[]> frames(Path segment) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        ByteBuffer buf = ByteBuffer.wrap(b);
        List<long[]> out = new ArrayList<>();
        int pos = 0;
        while (pos + RecordFormat.HEADER_BYTES <= b.length) {
            int len = buf.getInt(pos);
            long off = buf.getLong(pos + RecordFormat.OFFSET_AT);
            out.add(new long[] {off, pos, RecordFormat.HEADER_BYTES + len});
            pos += RecordFormat.HEADER_BYTES + len;
        }
        return out;
    }
}
