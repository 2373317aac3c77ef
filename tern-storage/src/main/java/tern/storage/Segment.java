package tern.storage;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One segment: a {@code .log} file holding records {@code [baseOffset, endOffset)} and its sparse index.
 *
 * <p>Threading: the log's writer thread owns {@link #writePosition} and the other writer-only fields and appends
 * through {@link #writeChannel}; the sync thread forces {@link #writeChannel}; readers use a separate lazily opened
 * read channel (so that a reader interrupted mid-read, which closes its channel, cannot break the writer) and see
 * only what the writer published through the volatile {@link #size()} and {@link #endOffset()}.
 */
final class Segment {

    private static final System.Logger LOG = System.getLogger(Segment.class.getName());

    final long baseOffset;
    final Path logPath;
    final Path indexPath;
    private final LogConfig config;

    /** Open while the segment may still need writing or syncing; writer thread and sync thread. */
    volatile FileChannel writeChannel;

    // --- writer-thread-only state ---
    long writePosition;
    long lastIndexedPosition;
    long lastRecordPosition = -1;

    // --- published state ---
    private volatile long size;
    private volatile long endOffset;
    private volatile long maxTimestamp;
    private volatile boolean sealed;
    volatile boolean deleted;

    /** Null for a sealed segment whose index has not been loaded from its file yet. */
    private volatile SparseIndex index;
    private volatile FileChannel readChannel;
    private final Object lock = new Object();

    private Segment(long baseOffset, Path dir, LogConfig config, long size, long endOffset, long lastRecordPosition,
                    long maxTimestamp, SparseIndex index, boolean sealed) {
        this.baseOffset = baseOffset;
        this.logPath = RecordFormat.logPath(dir, baseOffset);
        this.indexPath = RecordFormat.indexPath(dir, baseOffset);
        this.config = config;
        this.size = size;
        this.writePosition = size;
        this.endOffset = endOffset;
        this.lastRecordPosition = lastRecordPosition;
        this.maxTimestamp = maxTimestamp;
        this.index = index;
        this.sealed = sealed;
        if (index != null && index.count() > 0) {
            this.lastIndexedPosition = SparseIndex.position(index.floor(Long.MAX_VALUE));
        }
    }

    /** A sealed segment found at recovery; {@code index} may be null (loaded from the index file on first use). */
    static Segment sealed(Path dir, LogConfig config, Recovery.KeptSegment s) {
        return new Segment(s.baseOffset(), dir, config, s.size(), s.endOffset(), s.lastRecordPosition(),
                s.maxTimestamp(), s.index(), true);
    }

    /** The active (tail) segment found at recovery, opened for appending. */
    static Segment active(Path dir, LogConfig config, Recovery.KeptSegment s) throws IOException {
        Segment seg = new Segment(s.baseOffset(), dir, config, s.size(), s.endOffset(), s.lastRecordPosition(),
                s.maxTimestamp(), s.index(), false);
        seg.writeChannel = config.channelFactory().open(seg.logPath, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        return seg;
    }

    /** Creates a new empty active segment file. */
    static Segment create(Path dir, LogConfig config, long baseOffset) throws IOException {
        return create(dir, config, baseOffset, null);
    }

    /**
     * Creates a new active segment: an empty file, or (spare not null) a retired segment file of this log renamed to
     * the new name and overwritten from the start, so appends land on allocated blocks (docs/storage.md,
     * "Recycling"). What the spare held past the write position is stale: every record in it
     * has an offset below this segment's base, so recovery stops there.
     */
    static Segment create(Path dir, LogConfig config, long baseOffset, Path spare) throws IOException {
        Segment seg = new Segment(baseOffset, dir, config, 0, baseOffset, -1, Long.MIN_VALUE, new SparseIndex(),
                false);
        if (spare != null) {
            Files.move(spare, seg.logPath, StandardCopyOption.ATOMIC_MOVE);
            seg.writeChannel = config.channelFactory().open(seg.logPath, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            return seg;
        }
        FileChannel ch = config.channelFactory().open(seg.logPath, StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (ch.size() != 0) {
                // A stray file beyond the recovered end of the log cannot hold live records.
                ch.truncate(0);
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
        seg.writeChannel = ch;
        return seg;
    }

    long size() {
        return size;
    }

    long endOffset() {
        return endOffset;
    }

    long maxTimestamp() {
        return maxTimestamp;
    }

    boolean isSealed() {
        return sealed;
    }

    long recordCount() {
        return endOffset - baseOffset;
    }

    /** Writer thread: publishes a record (or batch) that is completely written. */
    void publish(long newSize, long newEndOffset, long lastRecordPos, long timestamp) {
        lastRecordPosition = lastRecordPos;
        writePosition = newSize;
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        size = newSize;
        endOffset = newEndOffset;
    }

    /** Writer thread: adds an index entry if the record at {@code position} is due one. */
    void maybeIndex(long offset, long position, int indexIntervalBytes) {
        if (position - lastIndexedPosition >= indexIntervalBytes) {
            index.add(offset - baseOffset, position);
            lastIndexedPosition = position;
        }
    }

    /** Writer thread: no more records will be appended to this segment. */
    void seal() {
        sealed = true;
    }

    /**
     * Writes the index file of a sealed segment: by the sync thread right after the segment's final fsync (so a
     * valid index file implies synced data), or by the writer under {@link SyncPolicy#NEVER}. Best effort: the
     * index is a cache that recovery rebuilds if it is missing or wrong.
     */
    void writeIndexFile() {
        synchronized (lock) {
            if (deleted || endOffset == baseOffset) {
                return;
            }
            long[] entries = index().toArray();
            IndexFile.writeOrDrop(config.channelFactory(), indexPath, IndexFile.encode(baseOffset, endOffset - 1,
                    maxTimestamp, size, lastRecordPosition, entries, entries.length));
        }
    }

    /**
     * @return the packed index entry ({@link SparseIndex#pack}) from which to scan for {@code offset}: the greatest
     *         indexed record at or before it, or the segment start
     */
    long lookup(long offset) {
        return index().floor(offset - baseOffset);
    }

    private SparseIndex index() {
        SparseIndex idx = index;
        if (idx != null) {
            return idx;
        }
        synchronized (lock) {
            if (index == null) {
                index = loadIndex();
            }
            return index;
        }
    }

    private SparseIndex loadIndex() {
        try {
            IndexFile.Header header = IndexFile.readHeader(config.channelFactory(), indexPath);
            if (header != null && header.baseOffset() == baseOffset && header.segmentSize() == size
                    && header.lastOffset() == endOffset - 1) {
                SparseIndex loaded = IndexFile.readEntries(config.channelFactory(), indexPath, header);
                if (loaded != null) {
                    return loaded;
                }
            }
            LOG.log(Level.WARNING, "index " + indexPath + " is invalid; rebuilding it in memory");
            SparseIndex rebuilt = new SparseIndex();
            new SegmentScanner(readChannel(), size, config.maxRecordBytes())
                    .scan(baseOffset, config.indexIntervalBytes(), rebuilt);
            return rebuilt;
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot load index " + indexPath + "; scanning from the segment start: " + e);
            return new SparseIndex();
        }
    }

    /**
     * Positional read for readers; survives other readers' interrupts (which close the shared read channel) by
     * reopening it.
     *
     * @return bytes read (less than requested only at end of file)
     */
    int read(ByteBuffer dst, long position) throws IOException {
        int start = dst.position();
        for (int attempt = 0; ; attempt++) {
            FileChannel ch = readChannel();
            try {
                RecordFormat.readFully(ch, dst, position + (dst.position() - start));
                return dst.position() - start;
            } catch (ClosedByInterruptException e) {
                resetReadChannel(ch);
                throw e;
            } catch (ClosedChannelException e) {
                if (deleted) {
                    throw deletedException();
                }
                resetReadChannel(ch);
                if (attempt >= 3) {
                    throw e;
                }
            }
        }
    }

    private FileChannel readChannel() throws IOException {
        FileChannel ch = readChannel;
        if (ch != null) {
            return ch;
        }
        synchronized (lock) {
            if (deleted) {
                throw deletedException();
            }
            if (readChannel == null) {
                readChannel = config.channelFactory().open(logPath, StandardOpenOption.READ);
            }
            return readChannel;
        }
    }

    private void resetReadChannel(FileChannel failed) {
        synchronized (lock) {
            if (readChannel == failed) {
                readChannel = null;
            }
        }
        closeQuietly(failed);
    }

    private StorageException deletedException() {
        return new StorageException(StorageException.Reason.OFFSET_OUT_OF_RANGE,
                "segment " + logPath.getFileName() + " was deleted by retention");
    }

    /** Sync thread (or writer under NEVER): the sealed segment needs no more writes or syncs. */
    void closeWriteChannel() {
        FileChannel ch = writeChannel;
        writeChannel = null;
        closeQuietly(ch);
    }

    /** Closes both channels. */
    void close() {
        closeWriteChannel();
        FileChannel ch;
        synchronized (lock) {
            ch = readChannel;
            readChannel = null;
        }
        closeQuietly(ch);
    }

    /**
     * Retention: takes the segment out of the log by renaming its file (recovery no longer sees it; the caller
     * fsyncs the directory) and deletes its index. With {@code spare} null the {@link Reclaimer} frees the space in
     * the background; otherwise the file is kept as {@code spare} for a later segment of this log. Concurrent
     * readers of this segment get OFFSET_OUT_OF_RANGE. False when the file was already gone.
     */
    boolean retire(Path spare) throws IOException {
        synchronized (lock) {
            deleted = true;
        }
        close();
        Path retired = spare != null ? spare : logPath.resolveSibling(logPath.getFileName() + Reclaimer.SUFFIX);
        boolean moved;
        try {
            Files.move(logPath, retired, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            if (spare == null) {
                Reclaimer.reclaim(retired);
            }
        } catch (NoSuchFileException e) {
            moved = false; // already gone
        }
        Files.deleteIfExists(indexPath);
        return moved;
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing useful to do
            }
        }
    }

    @Override
    public String toString() {
        return logPath.getFileName() + "[" + baseOffset + ".." + endOffset + ", " + size + " B"
                + (sealed ? ", sealed" : "") + "]";
    }
}
