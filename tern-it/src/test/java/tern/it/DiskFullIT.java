package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import tern.client.QueueOptions;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.protocol.ErrorCode;
import tern.testkit.BrokerProcess;
import tern.testkit.CheckedPayload;
import tern.testkit.ChildBroker;
import tern.testkit.ScratchFilesystem;

/**
 * The broker's data directory is a small tmpfs. Publishing to a durable queue until the disk is full must be
 * refused with DISK_FULL (never a silent drop, never a confirm), pub/sub keeps working, and once space is freed
 * publishes succeed again within 2 s. Then the disk is filled to the last byte, the broker SIGKILLed and started
 * again on the full disk: that start must delete nothing (no message segment removed or shortened; whether it
 * comes up is printed: today the engine must rewrite its catalog at open, so it does not). With space back, every
 * confirmed message is consumed, byte-identical. Needs root (mount); skipped with the reason otherwise.
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
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

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
                while (true) {
                    long id = nextId[0]++;
                    try {
                        c.sendAndWait(QUEUE, CheckedPayload.of(seed, id, BODY, BODY), WAIT);
                        confirmed.add(id);
                        break;
                    } catch (ServerException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.DISK_FULL);
                        assertThat(System.nanoTime() - freedAt).as("publishes resume within %s of freeing space",
                                RESUME_WITHIN).isLessThan(RESUME_WITHIN.toNanos());
                        LockSupport.parkNanos(50_000_000);
                    }
                }
                System.out.println("DiskFullIT: publishes resumed " + (System.nanoTime() - freedAt) / 1_000_000
                        + " ms after freeing space");

                // fill the disk to the last byte again, then crash
                fillDisk(filler);
                assertThat(fillUntilRefused(c, seed, nextId, confirmed).code()).isEqualTo(ErrorCode.DISK_FULL);
                broker.kill();
            } finally {
                broker.close();
            }

            // a restart on the full disk must delete nothing: no message segment removed or shortened
            Map<Path, Long> before = segments(data);
            String outcome = startOnFullDisk(data);
            System.out.println("DiskFullIT: restart on the full disk: " + outcome);
            Map<Path, Long> after = segments(data);
            for (Map.Entry<Path, Long> e : before.entrySet()) {
                assertThat(after.get(e.getKey())).as("segment %s after a restart on a full disk", e.getKey())
                        .isNotNull().isGreaterThanOrEqualTo(e.getValue());
            }

            // with space again, everything confirmed is there, byte-identical
            Files.delete(filler);
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
        Map<Path, Long> sizes = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(data.resolve("queues"))) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (p.toString().endsWith(".log") && p.getParent().getFileName().toString().equals("messages")) {
                    sizes.put(data.relativize(p), Files.size(p));
                }
            }
        }
        assertThat(sizes).isNotEmpty();
        return sizes;
    }

    /**
     * Starts a child broker on the full disk and stops it again; says whether it came up (and its queue depth) or
     * exited (and why). Own launcher rather than BrokerProcess: a child that exits must not cost the 30 s wait.
     */
    private String startOnFullDisk(Path data) throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), ChildBroker.class.getName(),
                data.toAbsolutePath().toString(), "0");
        Path log = tmp.resolve("full-disk-start.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                String out = Files.readString(log);
                int at = out.indexOf(ChildBroker.PORT_LINE);
                if (at >= 0) {
                    int end = out.indexOf('\n', at);
                    if (end > at) {
                        int port = Integer.parseInt(out.substring(at + ChildBroker.PORT_LINE.length(), end).trim());
                        try (Connection c = KillNineIT.connect(port, "diskfull-full-start")) {
                            QueueInfo info = c.listQueues().stream().filter(i -> i.name().equals(QUEUE)).findFirst()
                                    .orElseThrow();
                            return "started and serves, queue depth " + info.depth();
                        }
                    }
                }
                if (!p.isAlive()) {
                    String reason = out.lines().filter(l -> l.contains("Exception")).findFirst().orElse(out);
                    return "did not start (exit " + p.exitValue() + "): " + reason;
                }
                LockSupport.parkNanos(50_000_000);
            }
            throw new AssertionError("broker on a full disk neither started nor exited within " + START_TIMEOUT);
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
