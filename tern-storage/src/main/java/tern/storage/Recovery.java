package tern.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Recovery at open, in two steps so that it is idempotent and testable:
 * <ol>
 *   <li>{@link #plan} only reads: it validates every sealed segment cheaply (index header, file size, last record,
 *       continuity with the next segment), falls back to a full scan of a sealed segment only if that check fails,
 *       fully scans the tail segment, and decides where the log ends (the first damage);</li>
 *   <li>{@link #execute} applies the plan's actions, each idempotent, in an order such that a kill after any prefix
 *       of them leads the next {@link #plan} to the same final state.</li>
 * </ol>
 */
final class Recovery {

    /**
     * A segment that survives recovery.
     *
     * @param baseOffset         first offset
     * @param size               file size after recovery
     * @param endOffset          offset after its last record
     * @param lastRecordPosition position of the last record, -1 if empty
     * @param maxTimestamp       greatest record timestamp
     * @param index              its sparse index, or null to load it from the (validated) index file on first use
     */
    record KeptSegment(long baseOffset, long size, long endOffset, long lastRecordPosition, long maxTimestamp,
                       SparseIndex index) {
    }

    /** One idempotent recovery step. */
    sealed interface Action permits DeleteFile, Truncate, WriteIndex {
        void apply(LogConfig config) throws IOException;
    }

    /**
     * Delete a file if it exists.
     *
     * @param path the file
     */
    record DeleteFile(Path path) implements Action {
        @Override
        public void apply(LogConfig config) throws IOException {
            Files.deleteIfExists(path);
        }
    }

    /**
     * Cut a segment file back to {@code size} bytes (and fsync it unless the policy is NEVER).
     *
     * @param path the segment file
     * @param size the size to keep
     */
    record Truncate(Path path, long size) implements Action {
        @Override
        public void apply(LogConfig config) throws IOException {
            try (FileChannel ch = config.channelFactory().open(path, StandardOpenOption.WRITE)) {
                if (ch.size() > size) {
                    ch.truncate(size);
                }
                if (!(config.syncPolicy() instanceof SyncPolicy.Never)) {
                    ch.force(true);
                }
            }
        }
    }

    /**
     * (Re)write the index file of a sealed segment.
     *
     * @param path    the index file
     * @param segment what it describes
     */
    record WriteIndex(Path path, KeptSegment segment) implements Action {
        @Override
        public void apply(LogConfig config) throws IOException {
            // A valid index file vouches that its segment was fsynced: sync the segment first.
            if (!(config.syncPolicy() instanceof SyncPolicy.Never)) {
                try (FileChannel ch = config.channelFactory().open(path.resolveSibling(
                        RecordFormat.fileName(segment.baseOffset(), RecordFormat.LOG_SUFFIX)),
                        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ch.force(false);
                }
            }
            long[] entries = segment.index().toArray();
            // The kept segment carries the index just rebuilt in memory: a full disk must not stop the log opening.
            IndexFile.writeOrDrop(config.channelFactory(), path, IndexFile.encode(segment.baseOffset(),
                    segment.endOffset() - 1, segment.maxTimestamp(), segment.size(), segment.lastRecordPosition(),
                    entries, entries.length));
        }
    }

    /**
     * What recovery found and will do.
     *
     * @param segments surviving segments, oldest first (empty for an empty directory)
     * @param actions  steps to apply, in order
     * @param report   the report (duration not yet filled in)
     */
    record Plan(List<KeptSegment> segments, List<Action> actions, RecoveryReport report) {
    }

    private Recovery() {
    }

    static Plan plan(Path dir, LogConfig config) throws IOException {
        List<Long> bases = new ArrayList<>();
        List<Path> indexFiles = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                String name = p.getFileName().toString();
                long base = RecordFormat.parseBaseOffset(name, RecordFormat.LOG_SUFFIX);
                if (base >= 0) {
                    bases.add(base);
                } else if (RecordFormat.parseBaseOffset(name, RecordFormat.INDEX_SUFFIX) >= 0) {
                    indexFiles.add(p);
                }
            }
        }
        Collections.sort(bases);
        List<KeptSegment> kept = new ArrayList<>();
        List<Action> deletions = new ArrayList<>();
        List<Action> tailActions = new ArrayList<>();
        List<Action> indexWrites = new ArrayList<>();
        RecoveryReport.Damage damage = RecoveryReport.Damage.NONE;
        String detail = "";
        long damagedBase = -1;
        long truncatedAt = -1;
        long bytesDropped = 0;
        int segmentsDropped = 0;
        long recordsScanned = 0;

        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            Path logPath = RecordFormat.logPath(dir, base);
            Path indexPath = RecordFormat.indexPath(dir, base);
            boolean last = i == bases.size() - 1;
            long nextBase = last ? -1 : bases.get(i + 1);
            try (FileChannel ch = config.channelFactory().open(logPath, StandardOpenOption.READ)) {
                long size = ch.size();
                if (!last) {
                    KeptSegment cheap = cheapCheck(ch, size, base, nextBase, indexPath, config);
                    if (cheap != null) {
                        kept.add(cheap);
                        continue;
                    }
                }
                SparseIndex index = new SparseIndex();
                SegmentScanner.Result r = new SegmentScanner(ch, size, config.maxRecordBytes())
                        .scan(base, config.indexIntervalBytes(), index);
                recordsScanned += r.records();
                KeptSegment seg = new KeptSegment(base, r.validBytes(), r.endOffset(), r.lastRecordPosition(),
                        r.maxTimestamp(), index);
                if (!last && r.endOffset() == nextBase) {
                    // Intact sealed segment with a missing or stale index: keep it and rewrite the index. Bytes
                    // past its last record cannot be records of this log (the next offset is the next segment's
                    // first): they are the stale tail of a recycled file sealed before the sync thread cut it
                    // (docs/storage.md, "Recycling"). Cut them; they are not damage, and the log goes on.
                    kept.add(seg);
                    if (r.validBytes() < size) {
                        tailActions.add(new Truncate(logPath, r.validBytes()));
                    }
                    indexWrites.add(new WriteIndex(indexPath, seg));
                    continue;
                }
                // This segment ends the log: it is the tail, or damaged, or followed by a gap.
                kept.add(seg);
                if (r.damage() != RecoveryReport.Damage.NONE) {
                    damage = r.damage();
                    detail = r.detail();
                    damagedBase = base;
                    truncatedAt = r.validBytes();
                    bytesDropped += size - r.validBytes();
                } else if (!last) {
                    damage = RecoveryReport.Damage.SEGMENT_GAP;
                    detail = "segment " + base + " ends at offset " + r.endOffset() + " but the next segment"
                            + " starts at " + nextBase;
                    damagedBase = base;
                    truncatedAt = size;
                }
                for (int j = bases.size() - 1; j > i; j--) {
                    Path dropped = RecordFormat.logPath(dir, bases.get(j));
                    bytesDropped += sizeOrZero(dropped);
                    segmentsDropped++;
                    deletions.add(new DeleteFile(dropped));
                    deletions.add(new DeleteFile(RecordFormat.indexPath(dir, bases.get(j))));
                }
                if (Files.exists(indexPath)) {
                    tailActions.add(new DeleteFile(indexPath));
                }
                if (r.validBytes() < size) {
                    tailActions.add(new Truncate(logPath, r.validBytes()));
                }
                break;
            }
        }

        // Index files whose segment no longer exists (or is about to be deleted) are strays.
        List<Action> strays = new ArrayList<>();
        for (Path p : indexFiles) {
            long base = RecordFormat.parseBaseOffset(p.getFileName().toString(), RecordFormat.INDEX_SUFFIX);
            if (!bases.contains(base)) {
                strays.add(new DeleteFile(p));
            }
        }
        List<Action> actions = new ArrayList<>(deletions);
        actions.addAll(tailActions);
        actions.addAll(indexWrites);
        actions.addAll(strays);

        long start = kept.isEmpty() ? 0 : kept.get(0).baseOffset();
        long end = kept.isEmpty() ? 0 : kept.get(kept.size() - 1).endOffset();
        RecoveryReport report = new RecoveryReport(dir, Math.max(1, kept.size()), start, end, recordsScanned,
                damage, damagedBase, truncatedAt, bytesDropped, segmentsDropped, indexWrites.size(), detail, 0L);
        return new Plan(List.copyOf(kept), List.copyOf(actions), report);
    }

    static void execute(Plan plan, LogConfig config) throws IOException {
        for (Action action : plan.actions()) {
            action.apply(config);
        }
    }

    /**
     * @return the segment described by a valid index header whose last record checks out and which ends where the
     *         next segment starts, or null if any of that fails
     */
    private static KeptSegment cheapCheck(FileChannel ch, long size, long base, long nextBase, Path indexPath,
                                          LogConfig config) throws IOException {
        IndexFile.Header h = IndexFile.readHeader(config.channelFactory(), indexPath);
        if (h == null || h.baseOffset() != base || h.segmentSize() != size || size == 0
                || h.lastOffset() + 1 != nextBase || h.lastOffset() < base) {
            return null;
        }
        if (!new SegmentScanner(ch, size, config.maxRecordBytes()).isValidLastRecord(h.lastRecordPosition(),
                h.lastOffset())) {
            return null;
        }
        return new KeptSegment(base, size, nextBase, h.lastRecordPosition(), h.maxTimestamp(), null);
    }

    private static long sizeOrZero(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }
}
