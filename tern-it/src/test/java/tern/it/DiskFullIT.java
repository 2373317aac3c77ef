package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.client.Confirm;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.Message;
import tern.client.QueueInfo;
import tern.client.QueueConsumer;
import tern.client.QueueOptions;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.protocol.ErrorCode;
import tern.testkit.BrokerProcess;
import tern.testkit.CheckedPayload;
import tern.testkit.ScratchFilesystem;

/**
 * The broker's data directory is a small tmpfs. Publishing to a durable queue until the disk is full must be
 * refused with DISK_FULL (never a silent drop, never a confirm), pub/sub keeps working, and once space is freed
 * publishes succeed again within 2 s. Then the disk is filled to the last byte, the broker SIGKILLed and started
 * again on the full disk: it must start, delete nothing (no message segment removed or shortened, no queue file
 * removed), serve pub/sub and the recovered messages, refuse queue publishes with DISK_FULL, and accept them
 * within 2 s of space being freed. After another SIGKILL and restart every confirmed message is consumed,
 * byte-identical. Needs root (mount); skipped with the reason otherwise.
 */
class DiskFullIT {
    private static final String QUEUE = "full";
    private static final long DISK_BYTES = 16L << 20;
    private static final int FILLER_BYTES = 4 << 20;
    private static final int BODY = 4096;
    /** Far more sends than fit on the disk: the loop ends by DISK_FULL long before. */
    private static final int MAX_SENDS = (int) (2 * DISK_BYTES / BODY);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration RESUME_WITHIN = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void fullDiskRefusesPublishesKeepsConfirmedAndResumesWhenFreed() throws Exception {
        String why = ScratchFilesystem.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "disk-full test skipped: " + why);
        long seed = System.nanoTime();
        System.out.println("DiskFullIT seed=" + seed);
        ScratchFilesystem disk;
        try {
            disk = ScratchFilesystem.tmpfs(Files.createDirectories(tmp.resolve("disk")), DISK_BYTES);
        } catch (IOException e) {
            Assumptions.abort("disk-full test skipped: cannot mount a tmpfs: " + e.getMessage());
            throw e;
        }
        try (disk) {
            // the data directory is the mount point itself: BrokerProcess keeps the child's log beside it, on the
            // real disk, so a full tmpfs never blocks the child's logging
            Path data = disk.mountPoint();
            Path filler = data.resolve("filler.bin");
            try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer zeros = ByteBuffer.allocate(1 << 16);
                for (int written = 0; written < FILLER_BYTES; written += zeros.capacity()) {
                    ch.write(zeros.clear());
                }
            }
            Set<Long> confirmed = new TreeSet<>();
            long[] nextId = {0};
            BrokerProcess broker = BrokerProcess.start(data, 0, List.of());
            try (Connection c = KillNineIT.connect(broker.port(), "diskfull-producer")) {
                c.declareQueue(QUEUE, QueueOptions.durableQueue());
                ServerException refused = fillUntilRefused(c, seed, nextId, confirmed);
                System.out.println("DiskFullIT: " + confirmed.size() + " confirmed before " + refused);
                assertThat(refused.code()).isEqualTo(ErrorCode.DISK_FULL);
                assertThat(confirmed).isNotEmpty();
                // still full: still refused the same way, and the queue did not give up (STORAGE_FAILED)
                for (int i = 0; i < 3; i++) {
                    long id = nextId[0]++;
                    try {
                        c.sendAndWait(QUEUE, CheckedPayload.of(seed, id, BODY, BODY), WAIT);
                        confirmed.add(id); // a settlement file may have made room: then it must survive too
                    } catch (ServerException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.DISK_FULL);
                    }
                }
                // pub/sub does not touch the disk and keeps working
                Subscription sub = c.subscribe("diskfull.ping");
                c.flush(WAIT);
                c.publish("diskfull.ping", new byte[] {42});
                Message m = sub.next(WAIT);
                assertThat(m).as("pub/sub while the disk is full").isNotNull();
                assertThat(m.payload()).containsExactly(42);

                // free space: publishes must be accepted again within 2 s
                Files.delete(filler);
                long freedAt = System.nanoTime();
                awaitPublishesResume(c, seed, nextId, confirmed, freedAt, "");
                System.out.println("DiskFullIT: publishes resumed " + (System.nanoTime() - freedAt) / 1_000_000
                        + " ms after freeing space");

                // fill the disk to the last byte again, then crash
                fillDisk(filler);
                assertThat(fillUntilRefused(c, seed, nextId, confirmed).code()).isEqualTo(ErrorCode.DISK_FULL);
                broker.kill();
            } finally {
                broker.close();
            }

            // a restart on the completely full disk: it starts, deletes nothing, serves, refuses queue publishes
            Path topUp = data.resolve("filler-2.bin");
            fillDisk(topUp); // what the last refused publish cut back
            assertThat(tryWriteOneByte(data)).as("the disk is completely full before the restart").isFalse();
            Map<Path, Long> before = segments(data);
            Set<Path> filesBefore = queueFiles(data);
            broker = BrokerProcess.start(data, 0, List.of());
            try (Connection c = KillNineIT.connect(broker.port(), "diskfull-full-start")) {
                QueueInfo info = c.listQueues().stream().filter(i -> i.name().equals(QUEUE)).findFirst()
                        .orElseThrow();
                System.out.println("DiskFullIT: started on the full disk, queue depth " + info.depth());
                List<String> deferred = Files.readAllLines(broker.logFile()).stream()
                        .filter(l -> l.contains("deferred")).toList();
                deferred.forEach(l -> System.out.println("DiskFullIT: broker log: " + l));
                assertThat(deferred).as("the broker log says what it deferred")
                        .anyMatch(l -> l.contains("recovery checkpoint deferred") && l.contains("No space left"));
                assertThat(info.depth()).isGreaterThanOrEqualTo(confirmed.size());
                assertNothingDeleted(data, before, filesBefore);

                Subscription sub = c.subscribe("diskfull.ping");
                c.flush(WAIT);
                c.publish("diskfull.ping", new byte[] {7});
                Message m = sub.next(WAIT);
                assertThat(m).as("pub/sub after starting on a full disk").isNotNull();
                assertThat(m.payload()).containsExactly(7);

                ServerException refused = null;
                try {
                    c.sendAndWait(QUEUE, CheckedPayload.of(seed, nextId[0]++, BODY, BODY), WAIT);
                } catch (ServerException e) {
                    refused = e;
                }
                assertThat(refused).as("a queue publish on the full disk").isNotNull();
                assertThat(refused.code()).isEqualTo(ErrorCode.DISK_FULL);

                // recovered messages are delivered (given back at once: the final check consumes everything)
                ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
                QueueConsumer consumer = c.consume(QUEUE, new ConsumeOptions(1, false), d -> {
                    String wrong = CheckedPayload.verify(d.payload(), seed, BODY, BODY);
                    seen.add(wrong == null ? "ok" : wrong);
                    d.nack(null);
                });
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (seen.isEmpty() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(10_000_000);
                }
                consumer.close();
                assertThat(seen).as("a recovered message delivered on the full disk").isNotEmpty().allMatch("ok"::equals);
                assertNothingDeleted(data, before, filesBefore);

                // free space: the deferred writes happen and publishes are accepted within 2 s
                Files.delete(filler);
                Files.delete(topUp);
                long freedAt = System.nanoTime();
                awaitPublishesResume(c, seed, nextId, confirmed, freedAt, " after a start on a full disk");
                System.out.println("DiskFullIT: after a start on the full disk, publishes resumed "
                        + (System.nanoTime() - freedAt) / 1_000_000 + " ms after freeing space");
                broker.kill();
            } finally {
                broker.close();
            }

            // everything confirmed is there, byte-identical
            broker = BrokerProcess.start(data, 0, List.of());
            try (Connection c = KillNineIT.connect(broker.port(), "diskfull-after-restart")) {
                QueueInfo info = c.declareQueue(QUEUE, QueueOptions.durableQueue());
                assertThat(info.depth()).isGreaterThanOrEqualTo(confirmed.size());
                Set<Long> consumed = ConcurrentHashMap.newKeySet();
                ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
                long total = nextId[0];
                c.consume(QUEUE, new ConsumeOptions(256, false), d -> {
                    String wrong = CheckedPayload.verify(d.payload(), seed, BODY, BODY);
                    long got = CheckedPayload.id(d.payload());
                    if (wrong != null) {
                        problems.add(wrong);
                    } else if (got >= total) {
                        problems.add("id " + got + " was never sent");
                    } else {
                        consumed.add(got);
                    }
                    d.ack();
                });
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!consumed.containsAll(confirmed) && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(10_000_000);
                }
                Set<Long> missing = new TreeSet<>(confirmed);
                missing.removeAll(consumed);
                assertThat(problems).isEmpty();
                assertThat(missing).as("confirmed but lost").isEmpty();
            } finally {
                broker.close();
            }
        }
    }

    /**
     * Sends until one publish is confirmed, within RESUME_WITHIN of freeing space; each refusal before it must be
     * DISK_FULL and come within RESUME_WITHIN too.
     */
    private static void awaitPublishesResume(Connection c, long seed, long[] nextId, Set<Long> confirmed,
                                             long freedAt, String when) {
        while (true) {
            long id = nextId[0]++;
            try {
                c.sendAndWait(QUEUE, CheckedPayload.of(seed, id, BODY, BODY), WAIT);
                confirmed.add(id);
                assertThat(System.nanoTime() - freedAt).as("publishes resume within %s of freeing space%s",
                        RESUME_WITHIN, when).isLessThan(RESUME_WITHIN.toNanos());
                return;
            } catch (ServerException e) {
                assertThat(e.code()).isEqualTo(ErrorCode.DISK_FULL);
                assertThat(System.nanoTime() - freedAt).as("publishes resume within %s of freeing space%s",
                        RESUME_WITHIN, when).isLessThan(RESUME_WITHIN.toNanos());
                LockSupport.parkNanos(50_000_000);
            }
        }
    }

    /** Sends until the broker refuses one; returns the refusal. */
    private static ServerException fillUntilRefused(Connection c, long seed, long[] nextId, Set<Long> confirmed) {
        for (int sent = 0; sent < MAX_SENDS; sent++) {
            long id = nextId[0]++;
            try {
                Confirm confirm = c.sendAndWait(QUEUE, CheckedPayload.of(seed, id, BODY, BODY), WAIT);
                assertThat(confirm.fsynced()).isTrue();
                confirmed.add(id);
            } catch (ServerException e) {
                return e;
            }
        }
        throw new AssertionError("the disk never filled up after " + MAX_SENDS + " sends");
    }

    /** Writes the file until the filesystem has no byte left. */
    private static void fillDisk(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.allocate(4096);
            for (long i = 0; i < DISK_BYTES / block.capacity(); i++) {
                ch.write(block.clear());
            }
            throw new AssertionError("wrote the whole disk size into " + file + " without filling it");
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
    }

    /** Size of every message segment under the data directory. */
    private static Map<Path, Long> segments(Path data) throws IOException {
        Map<Path, Long> sizes = new TreeMap<>(queueFileSizes(data));
        sizes.keySet().removeIf(p -> !p.toString().endsWith(".log")
                || !p.getParent().getFileName().toString().equals("messages"));
        assertThat(sizes).isNotEmpty();
        return sizes;
    }

    /** Whether one more byte fits on the filesystem of dir (the probe file is removed again). */
    private static boolean tryWriteOneByte(Path dir) throws IOException {
        Path probe = dir.resolve("probe.bin");
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[1]));
            return true;
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
            return false;
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /** Every regular file of the queue engine (catalog, settlement logs, segments, indexes). */
    private static Set<Path> queueFiles(Path data) throws IOException {
        return new TreeSet<>(queueFileSizes(data).keySet());
    }

    /**
     * Every regular file under data/queues with its size. The broker may replace a file (a settlement generation)
     * while we list: one gone by the time it is visited is simply not there now.
     */
    private static Map<Path, Long> queueFileSizes(Path data) throws IOException {
        Map<Path, Long> sizes = new TreeMap<>();
        Files.walkFileTree(data.resolve("queues"), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path p, BasicFileAttributes a) {
                if (a.isRegularFile()) {
                    sizes.put(data.relativize(p), a.size());
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return sizes;
    }

    /**
     * No message segment removed or shortened, and no file of the queue engine removed, except the ones a run
     * replaces as a matter of course: a settlement generation superseded by a newer one, a rebuilt index.
     */
    private static void assertNothingDeleted(Path data, Map<Path, Long> segmentsBefore, Set<Path> filesBefore)
            throws IOException {
        Map<Path, Long> after = segments(data);
        for (Map.Entry<Path, Long> e : segmentsBefore.entrySet()) {
            assertThat(after.get(e.getKey())).as("segment %s after a restart on a full disk", e.getKey())
                    .isNotNull().isGreaterThanOrEqualTo(e.getValue());
        }
        Set<Path> now = queueFiles(data);
        for (Path p : filesBefore) {
            String name = p.getFileName().toString();
            if (name.startsWith("settlements-") && now.stream().anyMatch(q -> q.getParent().equals(p.getParent())
                    && q.getFileName().toString().startsWith("settlements-"))) {
                continue;
            }
            assertThat(now).as("files of the queue engine after a restart on a full disk").contains(p);
        }
    }
}
