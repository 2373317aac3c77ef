package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.client.ConnectOptions;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.QueueOptions;
import tern.client.Tern;
import tern.testkit.BrokerProcess;
import tern.testkit.CheckedPayload;

/**
 * A child broker is SIGKILLed at random moments (seeded; the seed is printed, rerun with -Dtern.crash.seed=S)
 * while a producer sends with publisher confirms and a consumer acks, then restarted on the same directory.
 * At the end every confirmed id must have been consumed, nothing consumed was never sent, and every payload is
 * byte-identical to what was sent. CI runs {@value #CI_CYCLES} cycles; {@code -Dtern.crash.cycles=500} runs the
 * soak (the {@code soak} test, skipped otherwise).
 */
class KillNineIT {
    static final int CI_CYCLES = 20;
    private static final String QUEUE = "k9";
    private static final int MIN_BODY = 16;
    private static final int MAX_BODY = 512;
    private static final Duration STEP = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    @Timeout(180)
    void confirmedMessagesSurviveRepeatedSigkill() throws Exception {
        if (Integer.getInteger("tern.crash.cycles") != null) {
            Assumptions.abort("-Dtern.crash.cycles is set: the soak test runs instead");
        }
        run(CI_CYCLES, List.of());
    }

    /**
     * The same with a 200 kB queue memory budget: past 100 kB the broker keeps messages on disk only and reads them
     * back to deliver them, recovery splits them the same way, and past 200 kB sends are refused (not confirmed, so
     * not required) until acks make room.
     */
    @Test
    @Timeout(180)
    void confirmedMessagesKeptOnDiskOnlySurviveRepeatedSigkill() throws Exception {
        if (Integer.getInteger("tern.crash.cycles") != null) {
            Assumptions.abort("-Dtern.crash.cycles is set: the soak test runs instead");
        }
        int budgetReached = run(CI_CYCLES / 2, List.of("max_queue_memory_bytes=200000"));
        assertThat(budgetReached).as("cycles whose broker refused sends for memory (so past half of it, messages"
                + " were kept on disk only)").isPositive();
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.HOURS)
    void soak() throws Exception {
        Integer cycles = Integer.getInteger("tern.crash.cycles");
        Assumptions.assumeTrue(cycles != null, "soak runs only with -Dtern.crash.cycles=N");
        run(cycles, List.of());
    }

    /** Runs the cycles; returns in how many the broker logged that the queue memory budget was full. */
    private int run(int cycles, List<String> overrides) throws Exception {
        int budgetReached = 0;
        long seed = Long.getLong("tern.crash.seed", System.nanoTime());
        System.out.println("KillNineIT seed=" + seed + " cycles=" + cycles + " overrides=" + overrides
                + " (rerun: -Dtern.crash.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        Path data = tmp.resolve("data");
        Ledger ledger = new Ledger(seed);

        long startedNanos = System.nanoTime();
        for (int cycle = 1; cycle <= cycles; cycle++) {
            long cycleStart = System.nanoTime();
            try (BrokerProcess broker = BrokerProcess.start(data, 0, overrides);
                 Connection consumer = connect(broker.port(), "k9-consumer")) {
                // not a resource: closed right after the kill, before the sender is joined
                Connection producer = connect(broker.port(), "k9-producer");
                producer.declareQueue(QUEUE, QueueOptions.durableQueue());
                consumer.consume(QUEUE, new ConsumeOptions(64, false), d -> {
                    ledger.consumed(d.payload());
                    d.ack();
                });
                consumer.flush(STEP);
                AtomicBoolean stop = new AtomicBoolean();
                Thread sender = new Thread(() -> ledger.sendUntil(producer, stop), "k9-sender-" + cycle);
                sender.setDaemon(true);
                sender.start();
                long readyMillis = (System.nanoTime() - cycleStart) / 1_000_000;
                // kill at a random point of progress: after 0..2000 more confirms, or a random 20..700 ms
                long target = ledger.confirmed.size() + random.nextInt(2001);
                long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20 + random.nextInt(681));
                long deadline = System.nanoTime() + STEP.toNanos();
                while (ledger.confirmed.size() < target && System.nanoTime() < killAt) {
                    assertThat(System.nanoTime()).as("cycle %d: no progress", cycle).isLessThan(deadline);
                    assertThat(broker.isAlive()).as("cycle %d: broker died by itself: %s", cycle, broker.logTail())
                            .isTrue();
                    LockSupport.parkNanos(1_000_000);
                }
                broker.kill();
                stop.set(true);
                producer.close(); // fails what is still unconfirmed and unblocks a sender waiting for the window
                sender.join(STEP.toMillis());
                assertThat(sender.isAlive()).as("cycle %d: sender stuck after the kill", cycle).isFalse();
                System.out.println("KillNineIT cycle " + cycle + ": broker ready in " + readyMillis + " ms, killed after "
                        + ledger.confirmed.size() + " confirmed in total");
                String log = Files.readString(broker.logFile());
                assertThat(log).as("cycle %d: the broker's invariants (it runs with -ea)", cycle)
                        .doesNotContain("AssertionError");
                if (log.contains("queue memory full")) {
                    budgetReached++;
                }
            }
            assertThat(ledger.problems).as("cycle %d", cycle).isEmpty();
        }

        // a last clean start: everything confirmed must come out
        try (BrokerProcess broker = BrokerProcess.start(data, 0, overrides);
             Connection consumer = connect(broker.port(), "k9-final")) {
            consumer.declareQueue(QUEUE, QueueOptions.durableQueue());
            consumer.consume(QUEUE, new ConsumeOptions(256, false), d -> {
                ledger.consumed(d.payload());
                d.ack();
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!ledger.consumedIds.containsAll(ledger.confirmed) && System.nanoTime() < deadline) {
                LockSupport.parkNanos(5_000_000);
            }
            Set<Long> missing = new TreeSet<>(ledger.confirmed);
            missing.removeAll(ledger.consumedIds);
            System.out.println("KillNineIT seed=" + seed + " took " + (System.nanoTime() - startedNanos) / 1_000_000
                    + " ms: sent " + ledger.nextId.get() + ", confirmed "
                    + ledger.confirmed.size() + ", consumed " + ledger.consumedIds.size() + " distinct ("
                    + ledger.deliveries.get() + " deliveries), missing " + missing.size());
            assertThat(ledger.problems).as("seed %d", seed).isEmpty();
            assertThat(missing.size()).as("seed %d: confirmed but never consumed, first: %s", seed,
                    first(missing, 20)).isZero();
            assertThat(ledger.confirmed).as("seed %d: the test confirmed nothing", seed).isNotEmpty();
        }
        return budgetReached;
    }

    static Connection connect(int port, String name) {
        return Tern.connect(ConnectOptions.builder().host("127.0.0.1").port(port).name(name).reconnect(false)
                .connectTimeout(Duration.ofSeconds(5)).build());
    }

    /** What was sent, confirmed and consumed across all cycles. */
    static final class Ledger {
        final long seed;
        final AtomicLong nextId = new AtomicLong();
        final Set<Long> confirmed = ConcurrentHashMap.newKeySet();
        final Set<Long> consumedIds = ConcurrentHashMap.newKeySet();
        final AtomicLong deliveries = new AtomicLong();
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

        Ledger(long seed) {
            this.seed = seed;
        }

        /** Sends fresh ids until stopped or the connection fails; the client's window bounds what is in flight. */
        void sendUntil(Connection producer, AtomicBoolean stop) {
            try {
                while (!stop.get()) {
                    long id = nextId.getAndIncrement();
                    producer.send(QUEUE, CheckedPayload.of(seed, id, MIN_BODY, MAX_BODY)).whenComplete((c, e) -> {
                        if (e == null) {
                            confirmed.add(id);
                        }
                    });
                }
            } catch (RuntimeException e) {
                // the broker was killed: sends fail from here on, which is the point
            }
        }

        void consumed(byte[] payload) {
            deliveries.incrementAndGet();
            String wrong = CheckedPayload.verify(payload, seed, MIN_BODY, MAX_BODY);
            long id = CheckedPayload.id(payload);
            if (wrong != null) {
                problems.add(wrong);
            } else if (id >= nextId.get()) {
                problems.add("id " + id + " consumed but never sent (next id " + nextId.get() + ")");
            } else {
                consumedIds.add(id);
            }
        }
    }

    /** The first n ids, for failure messages. */
    static List<Long> first(Set<Long> ids, int n) {
        List<Long> out = new ArrayList<>();
        for (Long id : ids) {
            if (out.size() == n) {
                break;
            }
            out.add(id);
        }
        return out;
    }
}
