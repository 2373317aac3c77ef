package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
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
import tern.testkit.ScratchFilesystem;

/**
 * Power cut stand-in: the broker's data directory is a loop-mounted ext4 image; after N confirms the broker is
 * SIGKILLed and the raw image is copied without any sync, so the copy holds only what reached the block device
 * (fsynced data plus whatever the kernel wrote back by itself; see {@link ScratchFilesystem}). A broker recovered
 * from the copy must still hold every message confirmed under fsync-before-confirm. The same run with an fsync
 * interval far longer than the test (confirm after the write, no fsync) must lose confirmed messages: it shows
 * the simulation can fail. Needs root and loop devices; skipped with the reason otherwise.
 */
class PowerCutIT {
    private static final String QUEUE = "powercut";
    private static final int MESSAGES = 2_000;
    private static final int BODY = 1024;
    private static final long IMAGE_BYTES = 64L << 20;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void fsyncBeforeConfirmKeepsEveryConfirmedMessageAcrossPowerCut() throws Exception {
        Outcome o = powerCut(QueueOptions.durableQueue());
        assertThat(o.allFsynced).as("receipts of fsync-before-confirm say fsynced").isTrue();
        assertThat(o.problems).isEmpty();
        assertThat(o.missing()).as("confirmed but lost in the power cut").isEmpty();
    }

    @Test
    @Timeout(120)
    void withoutFsyncThePowerCutLosesConfirmedMessages() throws Exception {
        // an fsync interval of a day: confirmed right after the write, never fsynced during the test
        QueueOptions base = QueueOptions.durableQueue();
        QueueOptions unsynced = new QueueOptions(true, base.messageTtl(), base.expires(), base.ackTimeout(),
                base.noAck(), base.maxLength(), base.maxBytes(), base.overflow(), base.maxDeliveries(),
                base.deadLetterQueue(), base.bindings(), Duration.ofDays(1));
        Outcome o = powerCut(unsynced);
        assertThat(o.allFsynced).as("interval receipts say not fsynced").isFalse();
        assertThat(o.problems).isEmpty();
        assertThat(o.missing()).as("the simulation must detect loss without fsync (else it proves nothing)")
                .isNotEmpty();
    }

    private record Outcome(Set<Long> confirmed, Set<Long> recovered, boolean allFsynced, List<String> problems) {
        Set<Long> missing() {
            Set<Long> m = new TreeSet<>(confirmed);
            m.removeAll(recovered);
            return m;
        }
    }

    private Outcome powerCut(QueueOptions options) throws Exception {
        String why = ScratchFilesystem.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "power-cut test skipped: " + why);
        long seed = System.nanoTime();
        System.out.println("PowerCutIT seed=" + seed + " fsyncInterval=" + options.fsyncInterval());
        ScratchFilesystem disk;
        try {
            disk = ScratchFilesystem.ext4(java.nio.file.Files.createDirectories(tmp.resolve("disk")), IMAGE_BYTES);
        } catch (IOException e) {
            Assumptions.abort("power-cut test skipped: cannot create and loop-mount an ext4 image: " + e.getMessage());
            throw e;
        }
        Set<Long> confirmed = new TreeSet<>();
        boolean allFsynced = true;
        Path copy = tmp.resolve("after-power-cut.img");
        try (disk) {
            BrokerProcess broker = BrokerProcess.start(disk.mountPoint(), 0, List.of());
            try (Connection c = KillNineIT.connect(broker.port(), "powercut-producer")) {
                c.declareQueue(QUEUE, options);
                List<CompletableFuture<Confirm>> futures = new ArrayList<>();
                for (long id = 0; id < MESSAGES; id++) {
                    futures.add(c.send(QUEUE, CheckedPayload.of(seed, id, BODY, BODY)));
                }
                for (int id = 0; id < MESSAGES; id++) {
                    Confirm confirm = futures.get(id).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    confirmed.add((long) id);
                    allFsynced &= confirm.fsynced();
                }
                // the power goes: the process dies (its dirty pages stay in the kernel), then the disk is read raw
                broker.kill();
                disk.copyImageWithoutSync(copy);
            } finally {
                broker.close();
            }
        }
        try (ScratchFilesystem after = ScratchFilesystem.mountImage(copy, tmp.resolve("after"));
             BrokerProcess broker = BrokerProcess.start(after.mountPoint(), 0, List.of());
             Connection c = KillNineIT.connect(broker.port(), "powercut-consumer")) {
            Set<Long> recovered = ConcurrentHashMap.newKeySet();
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            long s = seed;
            QueueInfo info = c.declareQueue(QUEUE, options);
            System.out.println("PowerCutIT recovered depth " + info.depth() + " of " + MESSAGES + " confirmed");
            c.consume(QUEUE, new ConsumeOptions(256, false), d -> {
                String wrong = CheckedPayload.verify(d.payload(), s, BODY, BODY);
                if (wrong != null) {
                    problems.add(wrong);
                } else if (CheckedPayload.id(d.payload()) >= MESSAGES) {
                    problems.add("id " + CheckedPayload.id(d.payload()) + " was never sent");
                } else {
                    recovered.add(CheckedPayload.id(d.payload()));
                }
                d.ack();
            });
            drain(c);
            return new Outcome(confirmed, Set.copyOf(recovered), allFsynced, List.copyOf(problems));
        }
    }

    /** Waits until the queue has nothing ready or unacked. */
    private static void drain(Connection c) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            QueueInfo q = c.listQueues().stream().filter(i -> i.name().equals(QUEUE)).findFirst().orElseThrow();
            if (q.depth() == 0 && q.unacked() == 0) {
                return;
            }
            assertThat(System.nanoTime()).as("queue not drained: %s", q).isLessThan(deadline);
            LockSupport.parkNanos(20_000_000);
        }
    }
}
