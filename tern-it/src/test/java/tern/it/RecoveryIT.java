package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.client.Confirm;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.QueueInfo;
import tern.client.QueueOptions;
import tern.testkit.BrokerProcess;
import tern.testkit.CheckedPayload;
import tern.testkit.ChildBroker;

/**
 * Kill during recovery: a broker with a large queue log (messages, acks, unacked deliveries) is SIGKILLed; its
 * directory is copied. The copy recovers once, cleanly: the reference state, and the length of the recovery
 * window (from the catalog rewrite that opens the engine to the broker listening). The original is then started
 * and SIGKILLed at a seeded random moment inside that window, several times, and finally started cleanly: its queue must hold exactly the reference state (same ids, in the same order, with the same delivery
 * counts).
 */
class RecoveryIT {
    private static final String QUEUE = "recover";
    private static final int MESSAGES = 60_000;
    private static final int BODY = 1024;
    private static final int INTERRUPTED_RECOVERIES = 4;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    /** One queued message as a consumer sees it after recovery. */
    record Seen(long id, int deliveryCount) {
    }

    @Test
    @Timeout(240)
    void killDuringRecoveryLeavesTheStateOfOneCleanRecovery() throws Exception {
        long seed = Long.getLong("tern.crash.seed", System.nanoTime());
        System.out.println("RecoveryIT seed=" + seed + " (rerun: -Dtern.crash.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        Path data = tmp.resolve("data");

        try (BrokerProcess broker = BrokerProcess.start(data, 0, List.of());
             Connection producer = KillNineIT.connect(broker.port(), "recovery-producer");
             Connection consumer = KillNineIT.connect(broker.port(), "recovery-consumer")) {
            producer.declareQueue(QUEUE, QueueOptions.durableQueue());
            List<CompletableFuture<Confirm>> confirms = new ArrayList<>(MESSAGES);
            for (long id = 0; id < MESSAGES; id++) {
                confirms.add(producer.send(QUEUE, CheckedPayload.of(seed, id, BODY, BODY)));
            }
            for (CompletableFuture<Confirm> f : confirms) {
                f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            // ack a random half of the first third; leave the rest of what was delivered unacked (the prefetch is
            // above the number of messages, so unacked deliveries never stall the consumer)
            AtomicLong delivered = new AtomicLong();
            long settleSeed = random.nextLong();
            consumer.consume(QUEUE, new ConsumeOptions(ConsumeOptions.MAX_PREFETCH, false), d -> {
                long n = delivered.incrementAndGet();
                if (n <= MESSAGES / 3 && new SplittableRandom(settleSeed + d.offset()).nextBoolean()) {
                    d.ack();
                }
            });
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (delivered.get() < MESSAGES / 3) {
                assertThat(System.nanoTime()).as("deliveries stalled at %d", delivered.get()).isLessThan(deadline);
                LockSupport.parkNanos(5_000_000);
            }
            consumer.flush(WAIT);
            broker.kill();
        }

        Path reference = tmp.resolve("reference");
        copyTree(data, reference);

        // the reference: one clean recovery of the copy; it also measures the recovery window, from the catalog
        // rewrite that opens the engine (generation bump) to the port line printed once the broker listens
        List<Seen> expected;
        long windowNanos;
        byte[] catalogBefore = Files.readAllBytes(catalog(reference));
        Process ref = launch(reference, tmp.resolve("reference.log"));
        try {
            long opened = awaitCatalogChange(reference, catalogBefore, ref);
            int port = awaitPort(tmp.resolve("reference.log"), ref);
            windowNanos = System.nanoTime() - opened;
            System.out.println("RecoveryIT: clean recovery window (catalog rewrite to listening) "
                    + windowNanos / 1_000_000 + " ms");
            expected = drain(port);
        } finally {
            ref.destroyForcibly();
            ref.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(expected).isNotEmpty();
        assertThat(expected.size()).isLessThan(MESSAGES);

        int hitRecovery = 0;
        for (int k = 0; k < INTERRUPTED_RECOVERIES; k++) {
            long delayNanos = (long) (windowNanos * random.nextDouble());
            if (killDuringRecovery(data, delayNanos)) {
                hitRecovery++;
            }
        }
        System.out.println("RecoveryIT: " + hitRecovery + " of " + INTERRUPTED_RECOVERIES
                + " kills came during recovery (after the engine opened, before the broker listened)");
        assertThat(hitRecovery).as("no kill landed inside recovery").isPositive();
        try (BrokerProcess broker = BrokerProcess.start(data, 0, List.of())) {
            List<Seen> actual = drain(broker.port());
            assertThat(actual.size()).as("messages after interrupted recoveries").isEqualTo(expected.size());
            assertThat(actual).as("seed %d", seed).isEqualTo(expected);
        }
    }

    /** Consumes everything in the queue once (no acks needed after: the broker is thrown away). */
    private static List<Seen> drain(int port) throws Exception {
        try (Connection c = KillNineIT.connect(port, "recovery-drain")) {
            QueueInfo info = c.declareQueue(QUEUE, QueueOptions.durableQueue());
            long depth = info.depth();
            List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
            List<String> problems = Collections.synchronizedList(new ArrayList<>());
            c.consume(QUEUE, new ConsumeOptions(1000, false), d -> {
                if (d.payload().length != CheckedPayload.of(0, 0, BODY, BODY).length) {
                    problems.add("payload of " + d.payload().length + " bytes");
                }
                seen.add(new Seen(CheckedPayload.id(d.payload()), d.deliveryCount()));
                d.ack();
            });
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (seen.size() < depth) {
                assertThat(System.nanoTime()).as("drain stalled at %d of %d", seen.size(), depth).isLessThan(deadline);
                LockSupport.parkNanos(5_000_000);
            }
            c.flush(WAIT);
            assertThat(problems).isEmpty();
            assertThat(seen).hasSize((int) depth);
            synchronized (seen) {
                return List.copyOf(seen);
            }
        }
    }

    /**
     * Starts a child broker on dir, waits until it rewrites the catalog (recovery begins), SIGKILLs it delayNanos
     * later; true when it had not yet reported its port (the kill landed inside recovery).
     */
    private boolean killDuringRecovery(Path dir, long delayNanos) throws IOException, InterruptedException {
        byte[] before = Files.readAllBytes(catalog(dir));
        Path log = tmp.resolve("interrupted-" + System.nanoTime() + ".log");
        Process p = launch(dir, log);
        try {
            awaitCatalogChange(dir, before, p);
            LockSupport.parkNanos(delayNanos);
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        String out = Files.readString(log);
        List<String> lines = out.lines().toList();
        System.out.println("RecoveryIT: killed " + delayNanos / 1_000_000 + " ms into recovery; last output: "
                + (lines.isEmpty() ? "(none)" : lines.get(lines.size() - 1)));
        return !out.contains(ChildBroker.PORT_LINE);
    }

    private static Path catalog(Path dir) {
        return dir.resolve("queues").resolve("catalog");
    }

    private static Process launch(Path dir, Path log) throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), ChildBroker.class.getName(),
                dir.toAbsolutePath().toString(), "0");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Polls (1 ms) until the catalog differs from before: the engine is opening; returns System.nanoTime(). */
    private static long awaitCatalogChange(Path dir, byte[] before, Process p) throws IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                if (!java.util.Arrays.equals(before, Files.readAllBytes(catalog(dir)))) {
                    return System.nanoTime();
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // between the unlink and the rename of a non-atomic replace: look again
            }
            assertThat(p.isAlive()).as("child broker exited before opening the engine").isTrue();
            assertThat(System.nanoTime()).as("catalog never rewritten").isLessThan(deadline);
            LockSupport.parkNanos(1_000_000);
        }
    }

    private static int awaitPort(Path log, Process p) throws IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String out = Files.readString(log);
            int at = out.indexOf(ChildBroker.PORT_LINE);
            int end = at < 0 ? -1 : out.indexOf('\n', at);
            if (end > at) {
                return Integer.parseInt(out.substring(at + ChildBroker.PORT_LINE.length(), end).trim());
            }
            assertThat(p.isAlive()).as("child broker exited: %s", out).isTrue();
            assertThat(System.nanoTime()).as("no port line").isLessThan(deadline);
            LockSupport.parkNanos(5_000_000);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
