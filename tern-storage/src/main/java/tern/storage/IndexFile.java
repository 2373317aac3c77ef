package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The {@code .index} file of a sealed segment. It is a cache: it is written (not fsynced) when a segment is sealed,
 * validated before use, and rebuilt from the segment whenever it is missing or does not match.
 * <pre>
 *  0 magic "TIDX" u32 | 4 version u32 | 8 baseOffset u64 | 16 lastOffset u64 | 24 maxTimestamp u64
 * 32 segmentSize u32 | 36 lastRecordPosition u32 | 40 entryCount u32 | 44 entriesCrc32c u32 | 48 headerCrc32c u32
 * 52 entries: entryCount x (relativeOffset u32 | position u32)
 * </pre>
 * {@code headerCrc32c} covers bytes 0..47, so opening a log reads only the 52-byte header of each sealed segment.
 */
final class IndexFile {
    private static final System.Logger LOG = System.getLogger("tern.storage");

    static final int MAGIC = 0x5449_4458;
    static final int VERSION = 1;
    static final int HEADER_BYTES = 52;
    static final int ENTRY_BYTES = 8;

    /**
     * What an index file says about its segment.
     *
     * @param baseOffset         first offset of the segment
     * @param lastOffset         offset of its last record
     * @param maxTimestamp       greatest timestamp of its records
     * @param segmentSize        exact size of the {@code .log} file
     * @param lastRecordPosition file position of the last record
     * @param entryCount         number of index entries
     * @param entriesCrc         CRC32C of the entries
     */
    record Header(long baseOffset, long lastOffset, long maxTimestamp, long segmentSize, long lastRecordPosition,
                  int entryCount, int entriesCrc) {
    }

    private IndexFile() {
    }

    static ByteBuffer encode(long baseOffset, long lastOffset, long maxTimestamp, long segmentSize,
                             long lastRecordPosition, long[] entries, int count) {
        ByteBuffer buf = ByteBuffer.allocate(HEADER_BYTES + count * ENTRY_BYTES);
        buf.position(HEADER_BYTES);
        for (int i = 0; i < count; i++) {
            buf.putInt((int) SparseIndex.relativeOffset(entries[i]));
            buf.putInt((int) SparseIndex.position(entries[i]));
        }
        CRC32C crc = new CRC32C();
        buf.flip().position(HEADER_BYTES);
        crc.update(buf);
        int entriesCrc = (int) crc.getValue();
        buf.clear();
        buf.putInt(MAGIC).putInt(VERSION).putLong(baseOffset).putLong(lastOffset).putLong(maxTimestamp)
                .putInt((int) segmentSize).putInt((int) lastRecordPosition).putInt(count).putInt(entriesCrc);
        crc.reset();
        crc.update(buf.array(), 0, HEADER_BYTES - 4);
        buf.putInt((int) crc.getValue());
        buf.position(0);
        return buf;
    }

    /** Writes (create or replace) the index file. Not fsynced: the file is only a cache. */
    static void write(FileChannelFactory files, Path path, ByteBuffer encoded) throws IOException {
        try (FileChannel ch = files.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            RecordFormat.writeFully(ch, encoded.duplicate(), 0);
        }
    }

    /**
     * {@link #write}, best effort: the index is a cache that the next open rebuilds, so a failure (a full disk)
     * only logs a warning and removes what may have been written.
     */
    static void writeOrDrop(FileChannelFactory files, Path path, ByteBuffer encoded) {
        try {
            write(files, path, encoded);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not write index " + path + " (the next open rebuilds it): "
                    + e);
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a partial index fails its CRC at the next open and is rebuilt anyway
            }
        }
    }

    /** @return the validated header, or {@code null} if the file is missing, short or fails its CRC */
    static Header readHeader(FileChannelFactory files, Path path) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(HEADER_BYTES);
        long fileSize;
        try (FileChannel ch = files.open(path, StandardOpenOption.READ)) {
            fileSize = ch.size();
            if (RecordFormat.readFully(ch, buf, 0) != HEADER_BYTES) {
                return null;
            }
        } catch (NoSuchFileException e) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, HEADER_BYTES - 4);
        if (buf.getInt(0) != MAGIC || buf.getInt(4) != VERSION || buf.getInt(48) != (int) crc.getValue()) {
            return null;
        }
        int count = buf.getInt(40);
        if (count < 0 || fileSize != HEADER_BYTES + (long) count * ENTRY_BYTES) {
            return null;
        }
        return new Header(buf.getLong(8), buf.getLong(16), buf.getLong(24), buf.getInt(32) & 0xFFFF_FFFFL,
                buf.getInt(36) & 0xFFFF_FFFFL, count, buf.getInt(44));
    }

    /** @return the entries if they match {@code header} and are increasing, otherwise {@code null} */
    static SparseIndex readEntries(FileChannelFactory files, Path path, Header header) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(header.entryCount() * ENTRY_BYTES);
        try (FileChannel ch = files.open(path, StandardOpenOption.READ)) {
            if (RecordFormat.readFully(ch, buf, HEADER_BYTES) != buf.capacity()) {
                return null;
            }
        } catch (NoSuchFileException e) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.capacity());
        if ((int) crc.getValue() != header.entriesCrc()) {
            return null;
        }
        long[] entries = new long[Math.max(1, header.entryCount())];
        long prevRel = -1;
        long prevPos = -1;
        for (int i = 0; i < header.entryCount(); i++) {
            long rel = buf.getInt(i * ENTRY_BYTES) & 0xFFFF_FFFFL;
            long pos = buf.getInt(i * ENTRY_BYTES + 4) & 0xFFFF_FFFFL;
            if (rel <= prevRel || pos <= prevPos || pos > header.lastRecordPosition()
                    || rel > header.lastOffset() - header.baseOffset()) {
                return null;
            }
            entries[i] = SparseIndex.pack(rel, pos);
            prevRel = rel;
            prevPos = pos;
        }
        return new SparseIndex(entries, header.entryCount());
    }
}
