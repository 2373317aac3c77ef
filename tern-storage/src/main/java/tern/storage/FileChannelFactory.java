package tern.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * The seam through which the log opens every file it reads, writes or syncs (segments, index files and the log
 * directory itself, which is opened read-only to fsync it).
 *
 * <p>Production code uses {@link #DEFAULT}. Tests substitute a factory that returns fault-injecting channels
 * (fail the Nth write, fail {@code force}, run out of space after N bytes, simulate a power cut) and that counts
 * calls, e.g. to prove that {@link SyncPolicy#NEVER} never calls {@link FileChannel#force(boolean)}.
 *
 * <p>The log uses only positional reads and writes ({@link FileChannel#read(java.nio.ByteBuffer, long)},
 * {@link FileChannel#write(java.nio.ByteBuffer, long)}), {@link FileChannel#size()},
 * {@link FileChannel#truncate(long)}, {@link FileChannel#force(boolean)} and {@link FileChannel#close()}.
 */
@FunctionalInterface
public interface FileChannelFactory {

    /** Opens files with {@link FileChannel#open(Path, OpenOption...)}. */
    FileChannelFactory DEFAULT = FileChannel::open;

    /**
     * Opens a channel like {@link FileChannel#open(Path, OpenOption...)}.
     *
     * @param path    the file (or, read-only, the directory to fsync)
     * @param options the open options
     * @return an open channel
     * @throws IOException as {@link FileChannel#open(Path, OpenOption...)} would
     */
    FileChannel open(Path path, OpenOption... options) throws IOException;
}
