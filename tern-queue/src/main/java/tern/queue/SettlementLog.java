package tern.queue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import tern.storage.FileChannelFactory;

/**
 * The per-queue settlement log (docs/queues.md, "On disk"): which offsets above the low watermark are settled and
 * how often each live message was delivered. A file {@code settlements-<generation>.log} of fixed 20-byte records:
 *
 * <pre>
 *  0       4      5         8            12                20
 *  +-------+------+---------+------------+-----------------+
 *  | crc32c| type | 0 0 0   | value i32  | offset i64      |   little endian; crc32c over bytes 4..19
 *  +-------+------+---------+------------+-----------------+
 *  type 1 CHECKPOINT  offset = low watermark (every offset below is settled), value = number of checkpoint
 *                     entries that follow it (written last, so a torn checkpoint is rejected); always first
 *  type 2 SETTLED     offset = a settled message (acked, dead-lettered, expired, dropped, purged)
 *  type 3 DELIVERED   offset = a message, value = its delivery count
 * </pre>
 *
 * Records are buffered and written in batches (never one write per ack) and fsynced only at checkpoints and close;
 * a lost tail only means redelivery (at-least-once). Reading stops at the first short or bad record. A checkpoint
 * writes a new generation holding only the live state (so recovery reads O(unsettled), not history), fsyncs it,
 * then deletes the old generation.
 */
final class SettlementLog implements AutoCloseable {
    static final int RECORD_BYTES = 20;
    static final byte CHECKPOINT = 1;
    static final byte SETTLED = 2;
    static final byte DELIVERED = 3;
    private static final String PREFIX = "settlements-";
    private static final String SUFFIX = ".log";
    /** Write the buffer once it holds this many bytes. */
    private static final int BATCH_BYTES = 64 << 10;
    /**
     * Most bytes of records kept while they cannot be written (disk full, or no current file while the recovery
     * checkpoint is deferred): 209,715 records. Past it records are dropped and a checkpoint is due at once.
     */
    static final int MAX_BUFFER_BYTES = 4 << 20;
    private static final System.Logger LOG = System.getLogger("tern.queue");

    /** The state read at open. */
    static final class Recovered {
        long lowWatermark;
        final Set<Long> settled = new HashSet<>();
        final Map<Long, Integer> deliveryCounts = new HashMap<>();

        /** The settled offsets and delivery counts from offset on (a copy). */
        Recovered from(long offset) {
            Recovered part = new Recovered();
            part.lowWatermark = offset;
            settled.stream().filter(o -> o >= offset).forEach(part.settled::add);
            deliveryCounts.forEach((o, count) -> {
                if (o >= offset) {
                    part.deliveryCounts.put(o, count);
                }
            });
            return part;
        }
    }

    private final Path dir;
    private final FileChannelFactory files;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buffer = ByteBuffer.allocate(BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private FileChannel channel;
    private long generation;
    private long position;
    private long recordsSinceCheckpoint;
    /** Records dropped at MAX_BUFFER_BYTES since the last checkpoint, which makes the next one due. */
    private long droppedRecords;
    /** The lowest generation whose file may still exist (older ones are deleted). */
    private long oldestKept;
    /** A sealed checkpoint not yet synced and finished, or null. */
    private Checkpoint unsynced;

    private SettlementLog(Path dir, FileChannelFactory files) {
        this.dir = dir;
        this.files = files;
    }

    /** Opens the newest valid generation (deleting older ones) and reads its state into recovered. */
    static SettlementLog open(Path dir, FileChannelFactory files, Recovered recovered) throws IOException {
        SettlementLog log = new SettlementLog(dir, files);
        long newest = -1;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                long g = Long.parseLong(n.substring(PREFIX.length(), n.length() - SUFFIX.length()));
                if (g > newest && log.readGeneration(g, new Recovered())) {
                    newest = g;
                }
            }
        }
        if (newest >= 0) {
            log.readGeneration(newest, recovered);
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals(PREFIX + newest + SUFFIX)) {
                    Files.delete(p);
                }
            }
        }
        log.generation = newest;
        log.oldestKept = newest;
        return log;
    }

    /** Reads one generation into r; false when its first record is not a valid CHECKPOINT. */
    private boolean readGeneration(long g, Recovered r) throws IOException {
        Path p = dir.resolve(PREFIX + g + SUFFIX);
        try (FileChannel ch = files.open(p, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long pos = 0;
            boolean first = true;
            long required = 0;
            long records = 0;
            while (true) {
                b.clear();
                int n = ch.read(b, pos);
                if (n < RECORD_BYTES) {
                    return !first && records > required;
                }
                b.flip();
                while (b.remaining() >= RECORD_BYTES) {
                    int start = b.position();
                    int stored = b.getInt(start);
                    crc.reset();
                    crc.update(b.array(), start + 4, RECORD_BYTES - 4);
                    byte type = b.get(start + 4);
                    if ((int) crc.getValue() != stored || first && type != CHECKPOINT) {
                        return !first && records > required;
                    }
                    int value = b.getInt(start + 8);
                    long offset = b.getLong(start + 12);
                    if (type == CHECKPOINT && first) {
                        r.lowWatermark = offset;
                        required = value;
                    } else if (type == SETTLED) {
                        r.settled.add(offset);
                        r.deliveryCounts.remove(offset);
                    } else if (type == DELIVERED) {
                        if (!r.settled.contains(offset)) {
                            r.deliveryCounts.put(offset, value);
                        }
                    } else {
                        return !first && records > required;
                    }
                    first = false;
                    records++;
                    b.position(start + RECORD_BYTES);
                    pos += RECORD_BYTES;
                }
            }
        }
    }

    void settled(long offset) {
        put(SETTLED, 0, offset);
    }

    void delivered(long offset, int count) {
        put(DELIVERED, count, offset);
    }

    long recordsSinceCheckpoint() {
        return recordsSinceCheckpoint;
    }

    boolean hasBuffered() {
        return buffer.position() > 0;
    }

    private void put(byte type, int value, long offset) {
        if (buffer.remaining() < RECORD_BYTES) {
            try {
                flush();
            } catch (IOException e) {
                // Disk full or I/O error: keep the records and retry at the next flush (docs/queues.md).
            }
            if (buffer.remaining() < RECORD_BYTES) {
                // Not written: the write failed, or there is no current file yet (the recovery checkpoint was
                // deferred). Keep the records, up to a bound; the next successful flush or checkpoint takes them.
                if (buffer.capacity() >= MAX_BUFFER_BYTES) {
                    // The queue's memory holds the truth and the next checkpoint writes all of it; until then a
                    // crash loses this record, which only means a redelivery (at-least-once).
                    if (droppedRecords++ == 0) {
                        LOG.log(System.Logger.Level.WARNING, dir + ": " + MAX_BUFFER_BYTES + " bytes of settlement"
                                + " records could not be written (disk full?); dropping further ones until a checkpoint"
                                + " is written: a crash before that redelivers the messages they settled");
                    }
                    return;
                }
                ByteBuffer bigger = ByteBuffer.allocate(Math.min(MAX_BUFFER_BYTES, buffer.capacity() * 2))
                        .order(ByteOrder.LITTLE_ENDIAN);
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
        }
        encode(buffer, type, value, offset);
        recordsSinceCheckpoint++;
    }

    private void encode(ByteBuffer b, byte type, int value, long offset) {
        int start = b.position();
        b.putInt(0).put(type).put((byte) 0).put((byte) 0).put((byte) 0).putInt(value).putLong(offset);
        crc.reset();
        crc.update(b.array(), b.arrayOffset() + start + 4, RECORD_BYTES - 4);
        b.putInt(start, (int) crc.getValue());
    }

    /** Writes buffered records to the file (no fsync). On failure the records stay buffered. */
    void flush() throws IOException {
        if (buffer.position() == 0 || channel == null) {
            return;
        }
        buffer.flip();
        long batchStart = position;
        try {
            while (buffer.hasRemaining()) {
                position += channel.write(buffer, position);
            }
            buffer.clear();
        } catch (IOException e) {
            // Keep the whole batch and rewrite it from its start next time, over any partial bytes.
            position = batchStart;
            buffer.position(0);
            buffer.compact();
            throw e;
        }
    }

    /** Whether a checkpoint is due: enough records that recovery would read more than twice the live state. */
    boolean checkpointDue(long liveMessages) {
        return droppedRecords > 0 || recordsSinceCheckpoint > Math.max(65_536, 4 * liveMessages);
    }

    /** Records dropped since the last checkpoint because they could not be written (see MAX_BUFFER_BYTES; tests). */
    long droppedRecords() {
        return droppedRecords;
    }

    /** The room kept for records not written yet (tests). */
    int bufferCapacity() {
        return buffer.capacity();
    }

    /**
     * Starts a new generation holding exactly the given state, fsyncs it and its directory, then deletes the old
     * generation. The live state is streamed by the caller through {@link Checkpoint#add}.
     */
    Checkpoint beginCheckpoint(long lowWatermark) throws IOException {
        long g = generation + 1;
        Path p = dir.resolve(PREFIX + g + SUFFIX);
        FileChannel ch = files.open(p, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.READ);
        return new Checkpoint(g, ch, lowWatermark);
    }

    /** A checkpoint being written. */
    final class Checkpoint {
        private final long newGeneration;
        private final FileChannel ch;
        private final ByteBuffer b = ByteBuffer.allocate(BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private final long lowWatermark;
        private long pos = RECORD_BYTES;
        private long records;

        private Checkpoint(long newGeneration, FileChannel ch, long lowWatermark) {
            this.newGeneration = newGeneration;
            this.ch = ch;
            this.lowWatermark = lowWatermark;
        }

        void settled(long offset) throws IOException {
            add(SETTLED, 0, offset);
        }

        void delivered(long offset, int count) throws IOException {
            add(DELIVERED, count, offset);
        }

        private void add(byte type, int value, long offset) throws IOException {
            if (b.remaining() < RECORD_BYTES) {
                write();
            }
            encode(b, type, value, offset);
            records++;
        }

        private void write() throws IOException {
            b.flip();
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
            b.clear();
        }

        /** Seals, syncs and finishes at once (recovery and close: the caller may wait for the fsyncs). */
        void commit() throws IOException {
            seal();
            sync();
            finish();
        }

        /**
         * Under the queue's lock: writes the remaining entries and the header, and makes the new generation the one
         * records are appended to. It is not durable yet: {@link #sync} makes it so and may run without the lock
         * (the fsyncs are what would stall the queue), then {@link #finish} deletes the older generations. A crash
         * before that recovers from the old generation, or from the new one if it reached the disk whole; either
         * way records appended since may be lost, which only means redelivery. On failure the old generation stays
         * current and the new file is removed.
         */
        void seal() throws IOException {
            try {
                write();
                // The header goes last and names how many entries follow: a torn checkpoint is never believed.
                encode(b, CHECKPOINT, (int) records, lowWatermark);
                b.flip();
                while (b.hasRemaining()) {
                    ch.write(b, b.position());
                }
                b.clear();
            } catch (IOException e) {
                abort();
                throw e;
            }
            FileChannel old = channel;
            channel = ch;
            generation = newGeneration;
            position = pos;
            // The checkpoint holds the whole live state: what was buffered, or dropped, is in it.
            if (buffer.capacity() > BATCH_BYTES) {
                buffer = ByteBuffer.allocate(BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            } else {
                buffer.clear();
            }
            droppedRecords = 0;
            recordsSinceCheckpoint = records;
            unsynced = this;
            if (old != null) {
                old.close();
            }
        }

        /** Any thread: fsyncs the new generation and its directory. Fails if a later checkpoint replaced it. */
        void sync() throws IOException {
            ch.force(false);
            syncDirectory();
        }

        /** Under the lock, after {@link #sync}: deletes every older generation. Idempotent. */
        void finish() throws IOException {
            if (unsynced == this) {
                unsynced = null;
            }
            for (; oldestKept < newGeneration; oldestKept++) {
                if (oldestKept >= 0) {
                    Files.deleteIfExists(dir.resolve(PREFIX + oldestKept + SUFFIX));
                }
            }
        }

        void abort() {
            try {
                ch.close();
                Files.deleteIfExists(dir.resolve(PREFIX + newGeneration + SUFFIX));
            } catch (IOException ignored) {
                // Best effort: a stray newer generation without a valid checkpoint is ignored at open.
            }
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = files.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** The sealed checkpoint whose fsyncs are still to be done (see {@link Checkpoint#seal}), or null. */
    Checkpoint unsynced() {
        return unsynced;
    }

    /** Flushes and fsyncs (close path). */
    void sync() throws IOException {
        flush();
        if (channel != null) {
            channel.force(false);
        }
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }
}
