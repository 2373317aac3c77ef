package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An exclusive hold on a directory: an OS file lock ({@link FileChannel#tryLock()}) on a lock file in it, held until
 * {@link #close()}. Another process trying the same directory is refused; a process killed with SIGKILL loses its
 * locks with it.
 *
 * <p>OS file locks belong to the process, not to a channel: a second lock attempt in the same JVM throws
 * {@link OverlappingFileLockException}, and on Linux closing <em>any</em> channel of the file releases every lock
 * the process holds on it. So attempts in this JVM are first checked against a registry of the directories held
 * here, without opening the file; and a channel that met an overlapping lock anyway (the same file reached through
 * another path) is kept open for good instead of being closed.
 */
public final class DirectoryLock implements AutoCloseable {
    /** Real paths of the directories held in this JVM. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    /** Channels that must never be closed: closing them would release another holder's lock (see above). */
    private static final List<FileChannel> PARKED = new CopyOnWriteArrayList<>();

    /** The directory is held already: by this JVM, or by another process whose lock file content is given. */
    public static final class InUse extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Path lockFile;
        private final boolean thisProcess;
        private final String content;

        InUse(Path lockFile, boolean thisProcess, String content) {
            super(lockFile + " is locked by " + (thisProcess ? "this process" : "another process"), null, false,
                    false);
            this.lockFile = lockFile;
            this.thisProcess = thisProcess;
            this.content = content;
        }

        /** The lock file. */
        public Path lockFile() {
            return lockFile;
        }

        /** True when the holder is this JVM. */
        public boolean thisProcess() {
            return thisProcess;
        }

        /** What the other process wrote into the lock file (at most 64 bytes; "" if nothing, or if thisProcess). */
        public String content() {
            return content;
        }
    }

    private final Path dir;
    private final FileChannel channel;

    private DirectoryLock(Path dir, FileChannel channel) {
        this.dir = dir;
        this.channel = channel;
    }

    /**
     * Creates the directory if needed and locks {@code dir/fileName}.
     *
     * @return the lock
     * @throws InUse       when the directory is already held, in this JVM or by another process
     * @throws IOException if the directory or the lock file cannot be created or opened
     */
    public static DirectoryLock acquire(Path dir, String fileName) throws IOException, InUse {
        Files.createDirectories(dir);
        Path real = dir.toRealPath();
        Path file = real.resolve(fileName);
        if (!HELD.add(real)) {
            throw new InUse(file, true, "");
        }
        FileChannel ch = null;
        boolean locked = false;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                PARKED.add(ch);
                ch = null;
                throw new InUse(file, true, "");
            }
            if (lock == null) {
                throw new InUse(file, false, readContent(ch));
            }
            locked = true;
            return new DirectoryLock(real, ch);
        } finally {
            if (!locked) {
                HELD.remove(real);
                Segment.closeQuietly(ch); // null, or a channel that holds no lock
            }
        }
    }

    private static String readContent(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(64);
            ch.read(b, 0);
            return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** The locked directory (its real path). */
    public Path directory() {
        return dir;
    }

    /** The lock file's channel, open for reading and writing (e.g. to record the holder's pid). Never close it. */
    public FileChannel channel() {
        return channel;
    }

    /** Releases the lock (closing its channel does); idempotent. */
    @Override
    public void close() {
        if (channel.isOpen()) {
            Segment.closeQuietly(channel);
            HELD.remove(dir);
        }
    }
}
