package tern.broker;

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
 * A broker's exclusive hold on its data directory: an OS file lock ({@link FileChannel#tryLock()}) on
 * {@code <data>/.lock}, taken before anything in the directory is opened and held until the broker is closed, so a
 * second broker on the same directory fails at start instead of corrupting the first one's files. The lock file
 * holds the holder's pid (best effort: on a full disk it stays empty) so the refusal can name it. The file is
 * never deleted: the lock, not the file's existence, is what counts, and a broker killed with SIGKILL loses its
 * lock with its process.
 *
 * <p>OS file locks are per process: a second lock attempt in the same JVM would throw
 * {@link OverlappingFileLockException}, and on Linux closing any other channel of the file would silently drop the
 * first broker's lock. So brokers of one JVM are first checked against a registry of the directories held here,
 * without opening the file at all.
 */
final class DataDirLock implements AutoCloseable {
    static final String FILE = ".lock";

    /** Real paths of the data directories held by brokers of this JVM. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
    /** Channels that must never be closed: closing them would release another holder's lock (see above). */
    private static final List<FileChannel> PARKED = new CopyOnWriteArrayList<>();

    /** The data directory cannot be locked: held by another broker, or the lock file cannot be opened. */
    static final class Failure extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /** Creates the directory if needed and locks it; throws {@link Failure} naming it when that is impossible. */
    static DataDirLock acquire(Path dataDir) {
        Path dir;
        try {
            Files.createDirectories(dataDir);
            dir = dataDir.toRealPath();
        } catch (IOException e) {
            throw new Failure("cannot use data directory " + dataDir.toAbsolutePath() + ": " + e, e);
        }
        Path file = dir.resolve(FILE);
        long me = ProcessHandle.current().pid();
        if (!HELD.add(dir)) {
            throw inUse(dir, file, "another broker in this process (pid " + me + ")");
        }
        FileChannel ch = null;
        boolean locked = false;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                // Something else in this JVM locks the same file (e.g. through another path to it): keep our
                // channel open for good rather than release its lock by closing it.
                PARKED.add(ch);
                ch = null;
                throw inUse(dir, file, "another broker in this process (pid " + me + ")");
            }
            if (lock == null) {
                String pid = readPid(ch);
                throw inUse(dir, file, "another broker" + (pid == null ? "" : " (pid " + pid + ")"));
            }
            writePid(ch, me);
            locked = true;
            return new DataDirLock(dir, ch, lock);
        } catch (IOException e) {
            throw new Failure("cannot lock data directory " + dir + " (" + file + "): " + e, e);
        } finally {
            if (!locked) {
                HELD.remove(dir);
                if (ch != null) {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // it held no lock
                    }
                }
            }
        }
    }

    private static Failure inUse(Path dir, Path file, String holder) {
        return new Failure("data directory " + dir + " is in use: " + holder + " holds its lock " + file
                + "; two brokers must not share a data directory (stop the other one or give this one another"
                + " --data directory)", null);
    }

    private static String readPid(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return s.matches("[0-9]{1,19}") ? s : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void writePid(FileChannel ch, long pid) {
        try {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((pid + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        } catch (IOException e) {
            // Only informative (disk full): the lock is what protects the directory.
        }
    }

    /** The locked directory (its real path). */
    Path directory() {
        return dir;
    }

    /** Releases the lock; idempotent. */
    @Override
    public void close() {
        if (!channel.isOpen()) {
            return;
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // released with the channel either way
        }
        HELD.remove(dir);
    }
}
