package tern.broker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import tern.storage.DirectoryLock;

/**
 * A broker's exclusive hold on its data directory: a {@link DirectoryLock} on {@code <data>/.lock}, taken before
 * anything in the directory is opened and held until the broker is closed, so a second broker on the same directory
 * (in this JVM or another process) fails at start instead of corrupting the first one's files. The lock file holds
 * the holder's pid (best effort: on a full disk it stays empty) so the refusal can name it. The file is never
 * deleted: the lock, not the file's existence, is what counts, and a broker killed with SIGKILL loses its lock with
 * its process.
 */
final class DataDirLock implements AutoCloseable {
    static final String FILE = ".lock";

    /** The data directory cannot be locked: held by another broker, or the lock file cannot be opened. */
    static final class Failure extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final DirectoryLock lock;

    private DataDirLock(DirectoryLock lock) {
        this.lock = lock;
    }

    /** Creates the directory if needed and locks it; throws {@link Failure} naming it when that is impossible. */
    static DataDirLock acquire(Path dataDir) {
        long me = ProcessHandle.current().pid();
        DirectoryLock lock;
        try {
            lock = DirectoryLock.acquire(dataDir, FILE);
        } catch (DirectoryLock.InUse e) {
            String holder = e.thisProcess() ? "another broker in this process (pid " + me + ")"
                    : "another broker" + (e.content().matches("[0-9]{1,19}") ? " (pid " + e.content() + ")" : "");
            throw new Failure("data directory " + e.lockFile().getParent() + " is in use: " + holder
                    + " holds its lock " + e.lockFile() + "; two brokers must not share a data directory (stop the"
                    + " other one or give this one another --data directory)", null);
        } catch (IOException e) {
            throw new Failure("cannot lock data directory " + dataDir.toAbsolutePath() + ": " + e, e);
        }
        writePid(lock.channel(), me);
        return new DataDirLock(lock);
    }

    private static void writePid(FileChannel ch, long pid) {
        try {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((pid + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        } catch (IOException e) {
            // Only informative (disk full): the lock is what protects the directory.
        }
    }

    /** Releases the lock; idempotent. */
    @Override
    public void close() {
        lock.close();
    }
}
