package tern.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Gives the space of retired segment files back to the filesystem in the background, a few MiB at a time.
 *
 * <p>Unlinking a 64 MiB segment at once frees all its extents in one journal commit; on ext4 mounted with
 * {@code discard} that commit also trims them, and every fsync that has to wait for it stalls (23 ms measured on
 * this project's 2-vCPU VM, against a 0.3 ms fsync), which is a confirm-latency spike for every publisher of every
 * log on the filesystem. So retention first renames a segment out of the log (atomic; recovery ignores the new
 * name), and this thread shrinks the file by {@link #STEP_BYTES} with a pause between steps before unlinking it:
 * the same work, spread over many small commits. A crash leaves a {@code *.deleted} file, which the next
 * {@link SegmentedLog#open} hands back here.
 *
 * <p>One daemon thread for the whole JVM ({@code tern-storage-reclaim}), started on first use.
 */
final class Reclaimer {
    static final String SUFFIX = ".deleted";
    /** How much of a file one step frees. */
    static final long STEP_BYTES = 4 << 20;
    /** The pause between steps, so the journal commits them one by one between other fsyncs. */
    static final long PAUSE_MILLIS = 2;
    private static final System.Logger LOG = System.getLogger("tern.storage");
    private static final LinkedBlockingQueue<Path> QUEUE = new LinkedBlockingQueue<>();
    private static final AtomicInteger PENDING = new AtomicInteger();
    private static Thread thread;

    private Reclaimer() {
    }

    /**
     * Queues a renamed-out file for shrinking and unlinking, or a whole directory nothing uses any more (a deleted
     * queue's): its files one by one, then the directories.
     */
    static void reclaim(Path file) {
        start();
        PENDING.incrementAndGet();
        QUEUE.add(file);
    }

    /** Queues every {@code *.deleted} file left in dir by a crash. */
    static void reclaimLeftovers(Path dir) throws IOException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path p : s) {
                reclaim(p);
            }
        }
    }

    /** Waits until every file queued so far is gone or given up on (for tests). */
    static boolean awaitIdle(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (PENDING.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    private static synchronized void start() {
        if (thread == null) {
            thread = new Thread(Reclaimer::run, "tern-storage-reclaim");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private static void run() {
        while (true) {
            Path p;
            try {
                p = QUEUE.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                shrinkAndDelete(p);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not reclaim " + p + " (" + e + "); it is retried when its"
                        + " log, or the queue engine for a deleted queue's directory, opens next");
            } catch (InterruptedException e) {
                return;
            } finally {
                PENDING.decrementAndGet();
            }
        }
    }

    private static void shrinkAndDelete(Path p) throws IOException, InterruptedException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> children;
            try (Stream<Path> s = Files.list(p)) {
                children = s.toList();
            } catch (NoSuchFileException e) {
                return;
            }
            for (Path c : children) {
                shrinkAndDelete(c);
            }
            Files.deleteIfExists(p);
            return;
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            for (long size = ch.size(); size > STEP_BYTES; size -= STEP_BYTES) {
                ch.truncate(size - STEP_BYTES);
                Thread.sleep(PAUSE_MILLIS);
            }
        } catch (NoSuchFileException e) {
            return;
        }
        Files.deleteIfExists(p);
    }
}
