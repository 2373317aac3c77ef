package tern.queue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;
import tern.storage.FileChannelFactory;

/**
 * Opens real files; writes to message-log segments ({@code messages/*.log}) can be made to fail as the kernel
 * does on a full disk, and their fsync to fail. {@link #everyWriteFails} makes every write to any file (catalog,
 * settlement logs, indexes, segments) fail the same way, as on a completely full disk, where empty files can still
 * be created; {@link #noNewFiles} makes creating a file fail too (no inode or directory space left).
 */
final class FaultyFiles implements FileChannelFactory {
    volatile boolean diskFull;
    volatile boolean everyWriteFails;
    volatile boolean noNewFiles;
    volatile boolean failForce;
    final AtomicInteger messageForces = new AtomicInteger();
    /** Positional reads of message-log segments (read-backs, recovery). */
    final AtomicInteger segmentReads = new AtomicInteger();

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        boolean creates = false;
        for (OpenOption o : options) {
            creates |= o == StandardOpenOption.CREATE || o == StandardOpenOption.CREATE_NEW;
        }
        if (noNewFiles && creates && !Files.exists(path)) {
            throw new IOException("No space left on device (injected: cannot create " + path + ")");
        }
        FileChannel real = FileChannel.open(path, options);
        boolean segment = path.getParent() != null && path.getParent().getFileName() != null
                && path.getParent().getFileName().toString().equals("messages")
                && path.getFileName().toString().endsWith(".log");
        return new Faulty(real, segment);
    }

    private final class Faulty extends FileChannel {
        private final FileChannel d;
        private final boolean segment;

        Faulty(FileChannel d, boolean segment) {
            this.d = d;
            this.segment = segment;
        }

        private void checkSpace() throws IOException {
            if (everyWriteFails || segment && diskFull) {
                throw new IOException("No space left on device (injected)");
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return d.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return d.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            checkSpace();
            return d.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            checkSpace();
            return d.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return d.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            d.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            d.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (!segment) {
                d.force(metaData);
                return;
            }
            messageForces.incrementAndGet();
            if (failForce) {
                throw new IOException("Input/output error (injected fsync failure)");
            }
            d.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return d.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            checkSpace();
            return d.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            if (segment) {
                segmentReads.incrementAndGet();
            }
            return d.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            checkSpace();
            return d.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return d.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return d.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return d.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            d.close();
        }
    }
}
