package tern.storage;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * A crash-safe, segmented, append-only log of records {@code (offset, timestampMillis, payload)} in one directory.
 *
 * <pre>{@code
 * try (SegmentedLog log = SegmentedLog.open(dir, LogConfig.DEFAULT)) {
 *     long offset = log.append(payload, System.currentTimeMillis());
 *     log.whenDurable(offset, (off, failure) -> {
 *         if (failure == null) confirmToPublisher(off); else rejectPublisher(off, failure);
 *     });
 *     try (LogReader reader = log.reader(log.startOffset())) {
 *         while (reader.next()) handle(reader.offset(), reader.payload());
 *     }
 * }
 * }</pre>
 *
 * <h2>Threading</h2>
 * <ul>
 *   <li><b>One writer thread.</b> {@code append*}, and {@link #close()} must be called by one thread at a time
 *       (normally always the same one, e.g. the queue's event loop). Appends are not synchronized; concurrent
 *       appends corrupt the log. Do not interrupt the writer thread while it appends: an interrupt closes the file
 *       channel and fails the log.</li>
 *   <li><b>Any number of reader threads.</b> {@link #read(long)} and {@link LogReader}s (one per thread) may run
 *       concurrently with appends; they see exactly the records below {@link #endOffset()} at the time they look.</li>
 *   <li>{@link #whenDurable}, {@link #durable}, the offset getters and the {@code deleteSegments*} methods are
 *       thread-safe.</li>
 *   <li>Unless the policy is {@link SyncPolicy#NEVER}, each log runs a daemon sync thread
 *       ({@code tern-log-sync-<dir>}) that calls {@code force} once for everything appended meanwhile (group commit)
 *       and then runs the durability callbacks it covered.</li>
 * </ul>
 *
 * <h2>Failures</h2>
 * A failed write (e.g. {@link StorageException.Reason#DISK_FULL}) is cut back and refused: the log stays as it was
 * and later appends may succeed. A failed fsync is fatal ({@link StorageException.Reason#SYNC_FAILED}): waiting
 * callbacks fail, nothing it covered is ever confirmed, and every later append throws until the log is closed and
 * reopened, which recovers from what is on disk. See {@code docs/storage.md}.
 */
public final class SegmentedLog implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("tern.storage");

    /** Appends are framed in this writer-owned direct buffer; larger records are written in pieces. */
    static final int WRITE_BUFFER_BYTES = 64 << 10;
    private static final int DRAIN_BATCH = 256;
    private static final int HEADER = RecordFormat.HEADER_BYTES;
    /** Most retired segment files a log keeps for reuse. */
    static final int MAX_SPARES = 2;
    /** The lock file in a log's directory (see {@link DirectoryLock}). */
    static final String LOCK_FILE = ".lock";
    /** Suffix of a spare (recovery ignores it). */
    static final String SPARE_SUFFIX = ".spare";
    /** Bytes each record takes on disk besides its payload (length, CRC, offset, timestamp). */
    public static final int RECORD_OVERHEAD_BYTES = RecordFormat.HEADER_BYTES;

    private final Path dir;
    private final LogConfig config;
    private final FileChannelFactory files;
    /** Whether the policy ever fsyncs (not NEVER). */
    private final boolean fsyncs;
    /** Whether callbacks wait for fsync (ALWAYS). */
    private final boolean confirmOnSync;
    private final RecoveryReport recoveryReport;
    private final DirectoryLock dirLock;

    // --- segments: copy-on-write array, mutated under segmentsLock ---
    private final Object segmentsLock = new Object();
    private final Object deleteLock = new Object();
    private volatile Segment[] segments;

    // --- writer thread ---
    private Segment active;
    private long nextOffset;
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
    private final CRC32C writeCrc = new CRC32C();

    /** Next offset to be written; published after each complete write. */
    private volatile long endOffset;

    // --- durability; waiters and state transitions guarded by lock ---
    private final ReentrantLock lock = new ReentrantLock();
    private final Waiters waiters = new Waiters();
    private volatile long syncedOffset;
    private volatile long durableOffset;
    private volatile StorageException failure;
    private volatile boolean closed;

    // --- sync thread ---
    private final Thread syncThread;
    private volatile boolean syncerIdle;
    private volatile boolean closing;
    private volatile StorageException closeSyncFailure;
    private long syncedSegmentBase;
    /** Retired segment files kept for reuse by the next rolls (docs/storage.md, "Recycling"); guarded by itself. */
    private final ArrayDeque<Path> spares = new ArrayDeque<>();
    private final long[] drainOffsets = new long[DRAIN_BATCH];
    private final DurabilityCallback[] drainCallbacks = new DurabilityCallback[DRAIN_BATCH];

    private SegmentedLog(Path dir, LogConfig config, Recovery.Plan plan, DirectoryLock dirLock, long startNanos)
            throws IOException {
        this.dir = dir;
        this.config = config;
        this.files = config.channelFactory();
        this.fsyncs = !(config.syncPolicy() instanceof SyncPolicy.Never);
        this.confirmOnSync = config.syncPolicy() instanceof SyncPolicy.Always;
        this.dirLock = dirLock;

        List<Recovery.KeptSegment> kept = plan.segments();
        Segment[] segs = new Segment[Math.max(1, kept.size())];
        try {
            if (kept.isEmpty()) {
                segs[0] = Segment.create(dir, config, 0);
            } else {
                for (int i = 0; i < kept.size() - 1; i++) {
                    segs[i] = Segment.sealed(dir, config, kept.get(i));
                }
                segs[kept.size() - 1] = Segment.active(dir, config, kept.get(kept.size() - 1));
            }
            this.segments = segs;
            this.active = segs[segs.length - 1];
            if (fsyncs) {
                // What recovery kept may sit only in the page cache (after a process crash): make it durable
                // before anything below endOffset can be confirmed. Sealed segments with a valid index were
                // fsynced before their index was written; recovery fsyncs those whose index it rebuilt.
                try {
                    active.writeChannel.force(false);
                    syncDirectory();
                } catch (IOException e) {
                    throw new StorageException(StorageException.Reason.SYNC_FAILED, true, "fsync of the recovered"
                            + " log " + dir + " failed", e);
                }
            }
            collectSpares();
        } catch (IOException | RuntimeException e) {
            for (Segment s : segs) {
                if (s != null) {
                    s.close();
                }
            }
            throw e;
        }
        this.nextOffset = active.endOffset();
        this.endOffset = nextOffset;
        this.syncedOffset = nextOffset;
        this.durableOffset = nextOffset;
        this.syncedSegmentBase = active.baseOffset;
        this.recoveryReport = plan.report().withDuration(System.nanoTime() - startNanos);
        LOG.log(recoveryReport.truncated() ? Level.INFO : Level.DEBUG, recoveryReport::toString);
        if (fsyncs) {
            syncThread = new Thread(this::syncLoop, "tern-log-sync-" + dir.getFileName());
            syncThread.setDaemon(true);
            syncThread.start();
        } else {
            syncThread = null;
        }
    }

    /**
     * Opens (creating if needed) the log in {@code dir}, recovers it and returns it ready for appends. Recovery reads
     * the whole tail segment and only the index header and last record of every other segment, cuts the log at the
     * first torn or corrupt record and reports what it did ({@link #recoveryReport()}). A directory can be open in
     * only one {@code SegmentedLog} at a time: a {@link DirectoryLock} on {@code dir/.lock} enforces it, in this JVM
     * as in others, and a refused attempt leaves the holder's lock in place.
     *
     * @param dir    the log's directory (one log per directory)
     * @param config limits and policies
     * @return the open log
     * @throws StorageException if the directory cannot be read or repaired, is already open, or its records
     *                          contradict the config ({@link StorageException.Reason#CONFIG_MISMATCH})
     */
    public static SegmentedLog open(Path dir, LogConfig config) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(config, "config");
        long start = System.nanoTime();
        DirectoryLock dirLock = null;
        try {
            try {
                dirLock = DirectoryLock.acquire(dir, LOCK_FILE);
            } catch (DirectoryLock.InUse e) {
                throw new StorageException(StorageException.Reason.IO_ERROR, "log directory " + dir
                        + " is already open" + (e.thisProcess() ? "" : " in another process"));
            }
            Reclaimer.reclaimLeftovers(dir);
            Recovery.Plan plan = Recovery.plan(dir, config);
            Recovery.execute(plan, config);
            return new SegmentedLog(dir, config, plan, dirLock, start);
        } catch (IOException e) {
            if (dirLock != null) {
                dirLock.close();
            }
            throw new StorageException(RecordFormat.isDiskFull(e) ? StorageException.Reason.DISK_FULL
                    : StorageException.Reason.IO_ERROR, false, "cannot open log " + dir + ": " + e, e);
        } catch (RuntimeException e) {
            if (dirLock != null) {
                dirLock.close();
            }
            throw e;
        }
    }

    // ------------------------------------------------------------------------------------------------ appends

    /**
     * Appends one record. Writer thread only. The payload's position and limit are not changed.
     *
     * @param payload         the bytes between position and limit
     * @param timestampMillis stored with the record (used for age-based retention)
     * @return the record's offset
     * @throws StorageException {@link StorageException.Reason#RECORD_TOO_LARGE},
     *                          {@link StorageException.Reason#DISK_FULL} or {@link StorageException.Reason#IO_ERROR} (nothing appended, the log is
     *                          unchanged), or the reason the log failed / {@link StorageException.Reason#CLOSED}
     */
    public long append(ByteBuffer payload, long timestampMillis) {
        int length = payload.remaining();
        ensureWritable();
        checkLength(length);
        if (HEADER + length > WRITE_BUFFER_BYTES) {
            return appendLarge(payload, timestampMillis);
        }
        writeBuffer.put(HEADER, payload, payload.position(), length);
        return appendFramed(length, timestampMillis);
    }

    /**
     * Appends one record from an array slice without wrapping it. Writer thread only.
     *
     * @param payload         the array
     * @param off             first byte of the payload
     * @param len             payload length
     * @param timestampMillis stored with the record
     * @return the record's offset
     * @throws StorageException as {@link #append(ByteBuffer, long)}
     */
    public long append(byte[] payload, int off, int len, long timestampMillis) {
        Objects.checkFromIndexSize(off, len, payload.length);
        ensureWritable();
        checkLength(len);
        if (HEADER + len > WRITE_BUFFER_BYTES) {
            return appendLarge(ByteBuffer.wrap(payload, off, len), timestampMillis);
        }
        writeBuffer.put(HEADER, payload, off, len);
        return appendFramed(len, timestampMillis);
    }

    /**
     * Appends {@code count} records with one timestamp, in as few write calls as the write buffer allows, all in
     * one segment. All or nothing with respect to write failures (a failed batch is cut back entirely); a crash may
     * keep a prefix of it. Writer thread only. The payloads' positions and limits are not changed.
     *
     * @param payloads        the payloads (each between position and limit)
     * @param from            index of the first payload to append
     * @param count           number of payloads
     * @param timestampMillis stored with every record
     * @return the offset of the first record (the batch occupies {@code [first, first + count)}); for an empty batch,
     *         {@link #endOffset()}
     * @throws StorageException as {@link #append(ByteBuffer, long)}; {@link StorageException.Reason#RECORD_TOO_LARGE}
     *                          also if the frames of a batch of two or more records exceed
     *                          {@link LogConfig#segmentBytes()} (see {@link #RECORD_OVERHEAD_BYTES}); a batch of one
     *                          record is placed like {@link #append(ByteBuffer, long)} places it
     */
    public long appendBatch(ByteBuffer[] payloads, int from, int count, long timestampMillis) {
        Objects.checkFromIndexSize(from, count, payloads.length);
        ensureWritable();
        if (count == 0) {
            return nextOffset;
        }
        long total = 0;
        for (int i = from; i < from + count; i++) {
            int len = payloads[i].remaining();
            checkLength(len);
            total += HEADER + len;
        }
        if (total > config.segmentBytes() && count > 1) {
            throw new StorageException(StorageException.Reason.RECORD_TOO_LARGE, "a batch of " + total
                    + " bytes does not fit in one segment of segmentBytes=" + config.segmentBytes());
        }
        Segment seg = segmentFor(total);
        FileChannel ch = seg.writeChannel;
        long first = nextOffset;
        long start = seg.writePosition;
        long p = start;
        ByteBuffer buf = writeBuffer;
        int used = 0;
        try {
            for (int i = 0; i < count; i++) {
                ByteBuffer payload = payloads[from + i];
                int len = payload.remaining();
                int frame = HEADER + len;
                if (used + frame > WRITE_BUFFER_BYTES && used > 0) {
                    buf.limit(used).position(0);
                    RecordFormat.writeFully(ch, buf, p);
                    buf.clear();
                    p += used;
                    used = 0;
                }
                if (frame > WRITE_BUFFER_BYTES) {
                    writeLargeRecord(ch, p, first + i, timestampMillis, payload);
                    p += frame;
                } else {
                    buf.put(used + HEADER, payload, payload.position(), len);
                    encodeHeader(used, len, first + i, timestampMillis);
                    used += frame;
                }
            }
            if (used > 0) {
                buf.limit(used).position(0);
                RecordFormat.writeFully(ch, buf, p);
                buf.clear();
            }
        } catch (IOException e) {
            buf.clear();
            throw rollback(seg, start, e);
        }
        long q = start;
        long lastPos = start;
        for (int i = 0; i < count; i++) {
            seg.maybeIndex(first + i, q, config.indexIntervalBytes());
            lastPos = q;
            q += HEADER + payloads[from + i].remaining();
        }
        publish(seg, q, first + count, lastPos, timestampMillis);
        return first;
    }

    /** The payload is already at writeBuffer[HEADER..HEADER+length). */
    private long appendFramed(int length, long timestampMillis) {
        int frame = HEADER + length;
        Segment seg = segmentFor(frame);
        long offset = nextOffset;
        long pos = seg.writePosition;
        encodeHeader(0, length, offset, timestampMillis);
        ByteBuffer buf = writeBuffer;
        buf.limit(frame).position(0);
        try {
            RecordFormat.writeFully(seg.writeChannel, buf, pos);
        } catch (IOException e) {
            throw rollback(seg, pos, e);
        } finally {
            buf.clear();
        }
        seg.maybeIndex(offset, pos, config.indexIntervalBytes());
        publish(seg, pos + frame, offset + 1, pos, timestampMillis);
        return offset;
    }

    private long appendLarge(ByteBuffer payload, long timestampMillis) {
        int frame = HEADER + payload.remaining();
        Segment seg = segmentFor(frame);
        long offset = nextOffset;
        long pos = seg.writePosition;
        try {
            writeLargeRecord(seg.writeChannel, pos, offset, timestampMillis, payload);
        } catch (IOException e) {
            throw rollback(seg, pos, e);
        }
        seg.maybeIndex(offset, pos, config.indexIntervalBytes());
        publish(seg, pos + frame, offset + 1, pos, timestampMillis);
        return offset;
    }

    /** Fills in the header of the frame at writeBuffer[at..] whose payload is already in place, CRC included. */
    private void encodeHeader(int at, int length, long offset, long timestampMillis) {
        ByteBuffer buf = writeBuffer;
        buf.putInt(at + RecordFormat.LENGTH_AT, length);
        buf.putLong(at + RecordFormat.OFFSET_AT, offset);
        buf.putLong(at + RecordFormat.TIMESTAMP_AT, timestampMillis);
        CRC32C crc = writeCrc;
        crc.reset();
        buf.limit(at + HEADER + length).position(at + RecordFormat.CRC_FROM);
        crc.update(buf);
        buf.clear();
        buf.putInt(at + RecordFormat.CRC_AT, (int) crc.getValue());
    }

    /** Writes a record bigger than the write buffer: header, then the payload in buffer-sized pieces. */
    private void writeLargeRecord(FileChannel ch, long pos, long offset, long timestampMillis, ByteBuffer payload)
            throws IOException {
        ByteBuffer buf = writeBuffer;
        int length = payload.remaining();
        int p0 = payload.position();
        buf.clear();
        buf.putInt(RecordFormat.LENGTH_AT, length);
        buf.putLong(RecordFormat.OFFSET_AT, offset);
        buf.putLong(RecordFormat.TIMESTAMP_AT, timestampMillis);
        CRC32C crc = writeCrc;
        crc.reset();
        buf.limit(HEADER).position(RecordFormat.CRC_FROM);
        crc.update(buf);
        crc.update(payload);
        payload.position(p0);
        buf.clear();
        buf.putInt(RecordFormat.CRC_AT, (int) crc.getValue());
        try {
            buf.limit(HEADER).position(0);
            RecordFormat.writeFully(ch, buf, pos);
            long p = pos + HEADER;
            int done = 0;
            while (done < length) {
                int n = Math.min(WRITE_BUFFER_BYTES, length - done);
                buf.clear();
                buf.put(0, payload, p0 + done, n);
                buf.limit(n).position(0);
                RecordFormat.writeFully(ch, buf, p);
                p += n;
                done += n;
            }
        } finally {
            buf.clear();
        }
    }

    private void publish(Segment seg, long newSize, long newEnd, long lastRecordPos, long timestampMillis) {
        seg.publish(newSize, newEnd, lastRecordPos, timestampMillis);
        nextOffset = newEnd;
        endOffset = newEnd;
        if (syncerIdle) {
            LockSupport.unpark(syncThread);
        }
    }

    private void checkLength(int length) {
        if (length > config.maxRecordBytes()) {
            throw new StorageException(StorageException.Reason.RECORD_TOO_LARGE, "record of " + length
                    + " bytes exceeds maxRecordBytes=" + config.maxRecordBytes());
        }
    }

    private void ensureWritable() {
        StorageException f = failure;
        if (f != null) {
            throw new StorageException(f.reason(), true, "log " + dir + " has failed; close and reopen it (cause: "
                    + f.getMessage() + ")", f);
        }
        if (closed) {
            throw closedException();
        }
    }

    private StorageException closedException() {
        return new StorageException(StorageException.Reason.CLOSED, "log " + dir + " is closed");
    }

    /** Returns the segment to append {@code frameBytes} to, rolling first if the active one would overflow. */
    private Segment segmentFor(long frameBytes) {
        Segment seg = active;
        if (seg.writePosition > 0 && seg.writePosition + frameBytes > config.segmentBytes()) {
            seg = roll();
        }
        return seg;
    }

    private Segment roll() {
        Segment old = active;
        Segment fresh;
        try {
            fresh = Segment.create(dir, config, nextOffset, takeSpare());
        } catch (IOException e) {
            throw new StorageException(RecordFormat.isDiskFull(e) ? StorageException.Reason.DISK_FULL
                    : StorageException.Reason.IO_ERROR, false, "cannot create segment " + nextOffset + " in " + dir
                    + "; nothing was appended", e);
        }
        old.seal();
        synchronized (segmentsLock) {
            Segment[] cur = segments;
            Segment[] next = Arrays.copyOf(cur, cur.length + 1);
            next[cur.length] = fresh;
            segments = next;
        }
        active = fresh;
        if (!fsyncs) {
            // No sync thread will come for it: write its index now and let go of the write channel.
            old.writeIndexFile();
            old.closeWriteChannel();
        }
        return fresh;
    }

    /** A write failed at {@code pos}: cut the partial write back, or fail the log if even that fails. */
    private StorageException rollback(Segment seg, long pos, IOException cause) {
        boolean full = RecordFormat.isDiskFull(cause);
        StorageException.Reason reason = full ? StorageException.Reason.DISK_FULL : StorageException.Reason.IO_ERROR;
        try {
            seg.writeChannel.truncate(pos);
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
            StorageException fatal = new StorageException(reason, true, "write to " + seg.logPath.getFileName()
                    + " failed at position " + pos + " and could not be cut back; the log has failed", cause);
            fail(fatal);
            return fatal;
        }
        return new StorageException(reason, false, "append refused, nothing was written: write to "
                + seg.logPath.getFileName() + " failed at position " + pos + (full ? " (disk full)" : ""), cause);
    }

    // ------------------------------------------------------------------------------------------------ durability

    /**
     * Calls {@code callback} once the record at {@code offset} (and so every record before it) is durable as the
     * {@link SyncPolicy} defines it, or once that has become impossible. Under {@link SyncPolicy#ALWAYS} that is
     * after an fsync covering it (group commit, on the sync thread); under {@link SyncPolicy.Interval} and
     * {@link SyncPolicy#NEVER} the record is confirmed as soon as it is written, so the callback runs at once.
     * Thread-safe. Register once per batch (for its last offset) to save work.
     *
     * @param offset   an appended offset ({@code < endOffset()})
     * @param callback told exactly once; see {@link DurabilityCallback}
     * @throws IllegalArgumentException if {@code offset >= endOffset()}
     */
    public void whenDurable(long offset, DurabilityCallback callback) {
        Objects.requireNonNull(callback, "callback");
        long end = endOffset;
        if (offset >= end) {
            throw new IllegalArgumentException("offset " + offset + " has not been appended (endOffset " + end + ")");
        }
        StorageException fail = null;
        if (!confirmOnSync) {
            StorageException f = failure;
            if (f != null && offset >= syncedOffset) {
                fail = f;
            }
        } else {
            lock.lock();
            try {
                if (offset >= durableOffset) {
                    if (failure != null) {
                        fail = failure;
                    } else if (closing) {
                        fail = closedException();
                    } else {
                        waiters.add(offset, callback);
                        return;
                    }
                }
            } finally {
                lock.unlock();
            }
        }
        complete(callback, offset, fail);
    }

    /**
     * Like {@link #whenDurable} but as a future, completed with the offset or exceptionally with the
     * {@link StorageException}. Allocates; prefer {@link #whenDurable} on hot paths.
     *
     * @param offset an appended offset
     * @return the future
     */
    public CompletableFuture<Long> durable(long offset) {
        CompletableFuture<Long> future = new CompletableFuture<>();
        whenDurable(offset, (off, failure) -> {
            if (failure == null) {
                future.complete(off);
            } else {
                future.completeExceptionally(failure);
            }
        });
        return future;
    }

    private static void complete(DurabilityCallback callback, long offset, StorageException failure) {
        try {
            callback.onComplete(offset, failure);
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "durability callback for offset " + offset + " threw", t);
        }
    }

    private void syncLoop() {
        long intervalNanos = config.syncPolicy() instanceof SyncPolicy.Interval iv
                ? TimeUnit.MILLISECONDS.toNanos(iv.millis()) : 0;
        long lastSync = System.nanoTime();
        while (failure == null) {
            boolean stopping = closing;
            long target = endOffset;
            if (target == syncedOffset) {
                if (stopping) {
                    return;
                }
                syncerIdle = true;
                if (endOffset == syncedOffset && !closing && failure == null) {
                    LockSupport.park(this);
                }
                syncerIdle = false;
                continue;
            }
            if (intervalNanos > 0 && !stopping) {
                long wait = lastSync + intervalNanos - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(this, wait);
                    continue;
                }
            }
            try {
                syncSegments();
            } catch (IOException | RuntimeException e) {
                StorageException ex = new StorageException(StorageException.Reason.SYNC_FAILED, true,
                        "fsync in " + dir + " failed; records from offset " + syncedOffset + " on will never be "
                                + "confirmed by this instance; close and reopen the log (" + e + ")", e);
                if (stopping) {
                    closeSyncFailure = ex;
                }
                fail(ex);
                return;
            }
            lastSync = System.nanoTime();
            onSynced(target);
        }
    }

    /**
     * Sync thread: fsyncs every segment that may hold records below the endOffset read before calling this.
     * Newly sealed segments get their final fsync, then their index file (so a valid index file implies a synced
     * segment), then the directory is fsynced so new segment files survive a power cut.
     */
    private void syncSegments() throws IOException {
        Segment[] segs = segments;
        Segment last = segs[segs.length - 1];
        if (last.baseOffset != syncedSegmentBase) {
            for (Segment s : segs) {
                if (s != last && s.baseOffset >= syncedSegmentBase) {
                    FileChannel ch = s.writeChannel;
                    if (ch == null) {
                        continue;
                    }
                    try {
                        if (ch.size() > s.size()) {
                            // A recycled file: cut the stale bytes past its records before its final fsync, so
                            // a sealed segment always ends with its last record (what recovery checks).
                            ch.truncate(s.size());
                        }
                        ch.force(false);
                    } catch (ClosedChannelException e) {
                        if (s.deleted) {
                            continue;
                        }
                        throw e;
                    }
                    s.writeIndexFile();
                    s.closeWriteChannel();
                }
            }
            syncDirectory();
            syncedSegmentBase = last.baseOffset;
        }
        // The last segment read may have rolled and been deleted by retention since: then its records no longer
        // need syncing.
        FileChannel ch = last.writeChannel;
        if (ch == null) {
            if (!last.deleted) {
                throw new ClosedChannelException();
            }
            return;
        }
        try {
            ch.force(false);
        } catch (ClosedChannelException e) {
            if (!last.deleted) {
                throw e;
            }
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = files.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private void onSynced(long target) {
        int n;
        do {
            lock.lock();
            try {
                syncedOffset = target;
                if (confirmOnSync) {
                    durableOffset = target;
                }
                n = waiters.drainBelow(target, drainOffsets, drainCallbacks);
            } finally {
                lock.unlock();
            }
            for (int i = 0; i < n; i++) {
                DurabilityCallback cb = drainCallbacks[i];
                drainCallbacks[i] = null;
                complete(cb, drainOffsets[i], null);
            }
        } while (n == DRAIN_BATCH);
    }

    /** Marks the log failed (first failure wins) and fails every waiting callback. */
    private void fail(StorageException ex) {
        lock.lock();
        try {
            if (failure == null) {
                failure = ex;
            }
        } finally {
            lock.unlock();
        }
        failWaiters(failure);
        LOG.log(Level.ERROR, "log " + dir + " failed", ex);
    }

    private void failWaiters(StorageException ex) {
        long[] offs = new long[DRAIN_BATCH];
        DurabilityCallback[] cbs = new DurabilityCallback[DRAIN_BATCH];
        int n;
        do {
            lock.lock();
            try {
                n = waiters.drainBelow(Long.MAX_VALUE, offs, cbs);
            } finally {
                lock.unlock();
            }
            for (int i = 0; i < n; i++) {
                complete(cbs[i], offs[i], ex);
            }
        } while (n == DRAIN_BATCH);
    }

    // ------------------------------------------------------------------------------------------------ reads

    /**
     * Reads one record. Thread-safe. Allocates (a reader window and the returned copy); use a {@link LogReader} to
     * replay many records.
     *
     * @param offset an offset in {@code [startOffset(), endOffset())}
     * @return the record, CRC verified
     * @throws StorageException {@link StorageException.Reason#OFFSET_OUT_OF_RANGE} outside that range,
     *                          {@link StorageException.Reason#CORRUPT} if the stored record fails validation,
     *                          {@link StorageException.Reason#IO_ERROR}
     */
    public LogRecord read(long offset) {
        long end = endOffset;
        if (offset >= end || offset < 0) {
            throw new StorageException(StorageException.Reason.OFFSET_OUT_OF_RANGE, "offset " + offset
                    + " is not in [" + startOffset() + ", " + end + ")");
        }
        try (LogReader reader = new LogReader(this, offset,
                Math.max(2 * config.indexIntervalBytes(), 4096), false)) {
            if (!reader.next()) {
                throw new StorageException(StorageException.Reason.OFFSET_OUT_OF_RANGE, "offset " + offset
                        + " is not readable");
            }
            ByteBuffer copy = ByteBuffer.allocate(reader.payloadLength());
            copy.put(reader.payload()).flip();
            return new LogRecord(reader.offset(), reader.timestampMillis(), copy.asReadOnlyBuffer());
        }
    }

    /**
     * Opens a cursor positioned at {@code fromOffset} for replay or tailing. Each reader belongs to one thread.
     *
     * @param fromOffset an offset in {@code [startOffset(), endOffset()]} ({@code endOffset()} to tail new records)
     * @return the reader
     * @throws StorageException {@link StorageException.Reason#OFFSET_OUT_OF_RANGE} outside that range
     */
    public LogReader reader(long fromOffset) {
        return new LogReader(this, fromOffset, LogReader.DEFAULT_BUFFER_BYTES, true);
    }

    /** @return the segment holding {@code offset} (which must be below endOffset), for readers */
    Segment locate(long offset) {
        Segment[] segs = segments;
        if (offset < segs[0].baseOffset) {
            throw new StorageException(StorageException.Reason.OFFSET_OUT_OF_RANGE, "offset " + offset
                    + " is below the start of the log (" + segs[0].baseOffset + "); it was deleted by retention");
        }
        int lo = 0;
        int hi = segs.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segs[mid].baseOffset <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return segs[lo];
    }

    // ------------------------------------------------------------------------------------------------ retention

    /**
     * Deletes whole segments all of whose records are below {@code offset} (e.g. fully consumed by every consumer of
     * a queue). The active segment is never deleted. Safe while appends and reads go on; a reader still positioned
     * in a deleted segment gets {@link StorageException.Reason#OFFSET_OUT_OF_RANGE}.
     *
     * @param offset records below this may go
     * @return the number of segments deleted
     */
    public int deleteSegmentsBefore(long offset) {
        synchronized (deleteLock) {
            Segment[] segs = segments;
            int n = 0;
            while (n < segs.length - 1 && segs[n + 1].baseOffset <= offset) {
                n++;
            }
            return deleteLeading(n);
        }
    }

    /**
     * Age-based retention: deletes leading sealed segments whose newest record is older than
     * {@code cutoffTimestampMillis}, stopping at the first segment that is not.
     *
     * @param cutoffTimestampMillis records with timestamps below this may go
     * @return the number of segments deleted
     */
    public int deleteSegmentsOlderThan(long cutoffTimestampMillis) {
        synchronized (deleteLock) {
            Segment[] segs = segments;
            int n = 0;
            while (n < segs.length - 1 && segs[n].maxTimestamp() < cutoffTimestampMillis) {
                n++;
            }
            return deleteLeading(n);
        }
    }

    /**
     * Size-based retention: deletes the oldest sealed segments while the log's files exceed {@code maxBytes}.
     *
     * @param maxBytes the size to get under (the active segment always stays)
     * @return the number of segments deleted
     */
    public int deleteSegmentsBeyondSize(long maxBytes) {
        synchronized (deleteLock) {
            Segment[] segs = segments;
            long total = 0;
            for (Segment s : segs) {
                total += s.size();
            }
            int n = 0;
            while (n < segs.length - 1 && total > maxBytes) {
                total -= segs[n].size();
                n++;
            }
            return deleteLeading(n);
        }
    }

    /**
     * Removes the first n segments from the log and renames their files out of it oldest first, fsyncing the
     * directory each time; the {@link Reclaimer} unlinks them in the background.
     */
    private int deleteLeading(int n) {
        if (n == 0) {
            return 0;
        }
        if (closed) {
            throw closedException();
        }
        Segment[] removed;
        synchronized (segmentsLock) {
            Segment[] cur = segments;
            removed = Arrays.copyOfRange(cur, 0, n);
            segments = Arrays.copyOfRange(cur, n, cur.length);
        }
        for (Segment s : removed) {
            try {
                Path spare = spareSlotFor(s);
                if (s.retire(spare) && spare != null) {
                    synchronized (spares) {
                        spares.addLast(spare);
                    }
                }
            } catch (IOException e) {
                throw new StorageException(StorageException.Reason.IO_ERROR, false, "cannot delete " + s.logPath
                        + " (it is no longer part of the log; recovery may bring it back as old history)", e);
            }
            if (fsyncs) {
                // One rename at a time reaches the disk, oldest first, so a power cut can never leave a gap.
                try {
                    syncDirectory();
                } catch (IOException e) {
                    StorageException ex = new StorageException(StorageException.Reason.SYNC_FAILED, true,
                            "fsync of directory " + dir + " failed after deleting " + s.logPath.getFileName(), e);
                    fail(ex);
                    throw ex;
                }
            }
        }
        return n;
    }

    /**
     * Deletes a directory of closed logs (e.g. a deleted queue's) in the background: it is renamed to
     * {@code trash} at once (same filesystem, atomic), then every file in it is shrunk a few MiB at a time and
     * unlinked, so a big delete never stalls other logs' fsyncs (docs/storage.md, "Retention"). A crash leaves
     * {@code trash} behind for the caller to delete again.
     *
     * @param dir   the directory; nothing may have it open
     * @param trash where to move it first: a name the caller never uses for anything else
     * @throws IOException if the rename fails (nothing was deleted)
     */
    public static void deleteInBackground(Path dir, Path trash) throws IOException {
        Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
        Reclaimer.reclaim(trash);
    }

    // ------------------------------------------------------------------------------------------------ recycling

    /** The spare to reuse for the next segment, or null (then a new file is created). Writer thread. */
    private Path takeSpare() {
        synchronized (spares) {
            return spares.pollFirst();
        }
    }

    /**
     * Where a segment leaving the log should be kept as a spare, or null when it should be reclaimed instead: only
     * logs that fsync recycle (their sync thread trims a sealed recycled segment), only nearly full segments are
     * worth it, and at most {@link #MAX_SPARES} are kept.
     */
    private Path spareSlotFor(Segment s) {
        if (!fsyncs || s.size() < config.segmentBytes() / 2) {
            return null;
        }
        synchronized (spares) {
            return spares.size() >= MAX_SPARES ? null
                    : s.logPath.resolveSibling(s.logPath.getFileName() + SPARE_SUFFIX);
        }
    }

    /** At open: adopts the spares a previous run left (up to {@link #MAX_SPARES}); reclaims the others. */
    private void collectSpares() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SPARE_SUFFIX)) {
            for (Path p : ds) {
                if (fsyncs && spares.size() < MAX_SPARES) {
                    spares.addLast(p);
                } else {
                    Path retired = p.resolveSibling(p.getFileName() + Reclaimer.SUFFIX);
                    Files.move(p, retired, StandardCopyOption.ATOMIC_MOVE);
                    Reclaimer.reclaim(retired);
                }
            }
        }
    }

    /**
     * On close: cuts a recycled active segment back to its records, so that a clean reopen finds no stale bytes
     * (a crash leaves them, and recovery cuts them as a torn tail: their offsets are below the segment's base).
     */
    private void trimActive() {
        FileChannel ch = active.writeChannel;
        if (ch == null || failure != null) {
            return;
        }
        try {
            if (ch.size() > active.size()) {
                ch.truncate(active.size());
                ch.force(false);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not trim " + active.logPath + " to its records on close (the next open"
                    + " cuts the stale tail): " + e);
        }
    }

    // ------------------------------------------------------------------------------------------------ state

    /** @return the first offset still in the log */
    public long startOffset() {
        return segments[0].baseOffset;
    }

    /** @return the next offset to be written; every record below it is readable */
    public long endOffset() {
        return endOffset;
    }

    /**
     * @return every record below this is durable as the {@link SyncPolicy} defines it (fsynced under
     *         {@link SyncPolicy#ALWAYS}; written under the other policies): the frontier that
     *         {@link #whenDurable} callbacks follow
     */
    public long durableOffset() {
        return confirmOnSync ? durableOffset : endOffset;
    }

    /** @return every record below this has been fsynced (never advances under {@link SyncPolicy#NEVER}) */
    public long syncedOffset() {
        return syncedOffset;
    }

    /** @return what recovery found and did when this log was opened */
    public RecoveryReport recoveryReport() {
        return recoveryReport;
    }

    /** @return whether a failure (failed fsync, or a write that could not be cut back) made the log unusable */
    public boolean isFailed() {
        return failure != null;
    }

    /** @return the failure that made the log unusable, or {@code null} */
    public StorageException failure() {
        return failure;
    }

    /** @return the total size of the log's segment files in bytes */
    public long sizeInBytes() {
        long total = 0;
        for (Segment s : segments) {
            total += s.size();
        }
        return total;
    }

    /** @return the number of segment files */
    public int segmentCount() {
        return segments.length;
    }

    /** @return the log's directory */
    public Path directory() {
        return dir;
    }

    /** @return the log's configuration */
    public LogConfig config() {
        return config;
    }

    /**
     * Stops the sync thread after a last group commit (unless the policy is NEVER or the log failed), fails callbacks
     * still waiting with {@link StorageException.Reason#CLOSED}, and closes all files. Idempotent. Call from the
     * writer thread, or once appends have stopped.
     *
     * @throws StorageException {@link StorageException.Reason#SYNC_FAILED} if the final fsync failed
     */
    @Override
    public void close() {
        synchronized (segmentsLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (syncThread != null) {
            closing = true;
            LockSupport.unpark(syncThread);
            boolean interrupted = false;
            while (syncThread.isAlive()) {
                try {
                    syncThread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        lock.lock();
        try {
            closing = true;
        } finally {
            lock.unlock();
        }
        failWaiters(closedException());
        trimActive();
        for (Segment s : segments) {
            s.close();
        }
        dirLock.close();
        StorageException f = closeSyncFailure;
        if (f != null) {
            throw new StorageException(f.reason(), true, "final fsync on close failed: " + f.getMessage(), f);
        }
    }

    @Override
    public String toString() {
        return "SegmentedLog[" + dir + ", offsets [" + startOffset() + ", " + endOffset + "), durable "
                + durableOffset() + ", " + segments.length + " segment(s), " + config.syncPolicy()
                + (isFailed() ? ", FAILED" : "") + (closed ? ", closed" : "") + "]";
    }
}
