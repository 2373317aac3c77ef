package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link FileChannelFactory} for tests that counts calls and injects faults into segment ({@code .log}) files:
 * fail the Nth write, fail {@code force}, fail {@code truncate}, or run out of space after N more bytes (a short
 * write followed by "No space left on device", as the kernel does).
 */
final class FaultyFiles implements FileChannelFactory {

    /** Every force call, on any file or the directory. */
    final AtomicInteger forces = new AtomicInteger();
    /** Force calls on segment files. */
    final AtomicInteger logForces = new AtomicInteger();
    /** Write calls on segment files. */
    final AtomicInteger logWrites = new AtomicInteger();
    final AtomicLong logBytesWritten = new AtomicLong();

    /** Bytes that may still be written to segment files before "No space left on device". */
    volatile long spaceLeft = Long.MAX_VALUE;
    /** The 1-based number of the segment-file write call to fail (after writing half its bytes); 0 = none. */
    volatile int failWriteNumber;
    volatile boolean failForce;
    volatile boolean failTruncate;

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        FileChannel real = FileChannel.open(path, options);
        boolean segment = path.getFileName().toString().endsWith(RecordFormat.LOG_SUFFIX);
        return new DelegatingFileChannel(real) {
            @Override
            public int write(ByteBuffer src, long position) throws IOException {
                if (!segment) {
                    return delegate.write(src, position);
                }
                int n = logWrites.incrementAndGet();
                if (n == failWriteNumber) {
                    ByteBuffer half = src.duplicate();
                    half.limit(half.position() + half.remaining() / 2);
                    int written = delegate.write(half, position);
                    src.position(src.position() + written);
                    logBytesWritten.addAndGet(written);
                    throw new IOException("Input/output error (injected write failure)");
                }
                long budget = spaceLeft;
                if (budget <= 0) {
                    throw new IOException("No space left on device");
                }
                if (src.remaining() > budget) {
                    ByteBuffer part = src.duplicate();
                    part.limit(part.position() + (int) budget);
                    int written = delegate.write(part, position);
                    src.position(src.position() + written);
                    spaceLeft = 0;
                    logBytesWritten.addAndGet(written);
                    return written;
                }
                int written = delegate.write(src, position);
                if (budget != Long.MAX_VALUE) {
                    spaceLeft = budget - written;
                }
                logBytesWritten.addAndGet(written);
                return written;
            }

            @Override
            public FileChannel truncate(long size) throws IOException {
                if (segment && failTruncate) {
                    throw new IOException("Input/output error (injected truncate failure)");
                }
                return super.truncate(size);
            }

            @Override
            public void force(boolean metaData) throws IOException {
                forces.incrementAndGet();
                if (segment) {
                    logForces.incrementAndGet();
                }
                if (failForce) {
                    throw new IOException("Input/output error (injected fsync failure)");
                }
                delegate.force(metaData);
            }
        };
    }
}
