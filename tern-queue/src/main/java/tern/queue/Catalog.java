package tern.queue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import tern.storage.FileChannelFactory;

/**
 * The durable queue definitions and the engine generation, in one file {@code catalog} replaced atomically
 * (write {@code catalog.tmp}, fsync, rename, fsync the directory). Big endian:
 *
 * <pre>
 * i32 magic 0x54514331 ("TQC1")
 * i64 generation (incremented at each open; high bits of delivery tokens)
 * i32 queue count, then per queue:
 *   UTF name, UTF durability, i64 fsyncIntervalMillis, i64 messageTtlMillis, i64 expiryMillis,
 *   i64 ackTimeoutMillis, bool noAck, i64 maxLengthMessages, i64 maxLengthBytes, UTF overflow,
 *   i32 maxDeliveries, bool hasDeadLetterQueue, [UTF deadLetterQueue], i32 binding count, UTF binding...
 * i32 crc32c of all bytes before it
 * </pre>
 *
 * <p><b>Generation markers.</b> When the catalog cannot be rewritten at open (disk full), the engine records its
 * new generation as the name of an empty file {@code generation-<n>} instead: creating an empty file needs an inode
 * and a directory entry but no data block, so it usually succeeds on a full disk. The generation in force is the
 * greatest of the catalog's and the markers'; markers are removed once a catalog holding a generation at least as
 * high has been written.
 */
final class Catalog {
    static final int MAGIC = 0x54514331;
    static final String FILE = "catalog";
    static final String MARKER_PREFIX = "generation-";

    /** One durable queue's definition. */
    record Entry(String name, QueueOptions options, List<String> bindings) {
    }

    long generation;
    final List<Entry> entries = new ArrayList<>();

    static Catalog read(Path dir) throws IOException {
        Catalog c = new Catalog();
        Path p = dir.resolve(FILE);
        if (!Files.exists(p)) {
            return c;
        }
        byte[] all = Files.readAllBytes(p);
        if (all.length < 4) {
            throw new IOException("catalog " + p + " is " + all.length + " bytes, too short");
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 4);
        int stored = ByteBuffer.wrap(all, all.length - 4, 4).getInt();
        if ((int) crc.getValue() != stored) {
            throw new IOException("catalog " + p + " fails its CRC: refusing to guess which queues exist");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 0, all.length - 4));
        if (in.readInt() != MAGIC) {
            throw new IOException("catalog " + p + " has a bad magic number");
        }
        c.generation = in.readLong();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            Durability durability = Durability.valueOf(in.readUTF());
            long fsyncInterval = in.readLong();
            long ttl = in.readLong();
            long expiry = in.readLong();
            long ackTimeout = in.readLong();
            boolean noAck = in.readBoolean();
            long maxMessages = in.readLong();
            long maxBytes = in.readLong();
            Overflow overflow = Overflow.valueOf(in.readUTF());
            int maxDeliveries = in.readInt();
            String dlq = in.readBoolean() ? in.readUTF() : null;
            int b = in.readInt();
            List<String> bindings = new ArrayList<>();
            for (int k = 0; k < b; k++) {
                bindings.add(in.readUTF());
            }
            c.entries.add(new Entry(name, new QueueOptions(true, durability, fsyncInterval, ttl, expiry, ackTimeout,
                    noAck, maxMessages, maxBytes, overflow, maxDeliveries, dlq), bindings));
        }
        return c;
    }

    void write(Path dir, FileChannelFactory files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeLong(generation);
        out.writeInt(entries.size());
        for (Entry e : entries) {
            QueueOptions o = e.options();
            out.writeUTF(e.name());
            out.writeUTF(o.durability().name());
            out.writeLong(o.fsyncIntervalMillis());
            out.writeLong(o.messageTtlMillis());
            out.writeLong(o.expiryMillis());
            out.writeLong(o.ackTimeoutMillis());
            out.writeBoolean(o.noAck());
            out.writeLong(o.maxLengthMessages());
            out.writeLong(o.maxLengthBytes());
            out.writeUTF(o.overflow().name());
            out.writeInt(o.maxDeliveries());
            out.writeBoolean(o.deadLetterQueue() != null);
            if (o.deadLetterQueue() != null) {
                out.writeUTF(o.deadLetterQueue());
            }
            out.writeInt(e.bindings().size());
            for (String b : e.bindings()) {
                out.writeUTF(b);
            }
        }
        out.flush();
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        out.flush();
        Path tmp = dir.resolve(FILE + ".tmp");
        try (FileChannel ch = files.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
            long pos = 0;
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = files.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** The greatest generation named by a marker file in dir, 0 when there is none. */
    static long newestMarker(Path dir) throws IOException {
        long newest = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, MARKER_PREFIX + "*")) {
            for (Path p : ds) {
                long g = markerGeneration(p);
                newest = Math.max(newest, g);
            }
        }
        return newest;
    }

    /**
     * Records generation as an empty marker file and fsyncs the directory: durable without a data block. Throws
     * when the file cannot be created (no inode or directory space either) or the directory cannot be synced.
     */
    static void writeMarker(Path dir, FileChannelFactory files, long generation) throws IOException {
        Path p = dir.resolve(MARKER_PREFIX + generation);
        files.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE).close(); // empty: the name is the record
        try (FileChannel d = files.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Removes the markers at or below generation (a written catalog holds it); best effort. */
    static void deleteMarkers(Path dir, long upTo) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, MARKER_PREFIX + "*")) {
            for (Path p : ds) {
                long g = markerGeneration(p);
                if (g > 0 && g <= upTo) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException ignored) {
            // a leftover marker names a generation the catalog already exceeds: harmless
        }
    }

    private static long markerGeneration(Path p) {
        try {
            return Long.parseLong(p.getFileName().toString().substring(MARKER_PREFIX.length()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
