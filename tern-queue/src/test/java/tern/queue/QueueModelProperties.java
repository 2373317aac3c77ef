package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import tern.protocol.ErrorCode;
import tern.storage.LogConfig;

/**
 * Random operation sequences on one durable queue (publish, ack, nack, stale ack, time passing past ack timeouts,
 * restart) against a small reference model: both agree on every delivery (which message, which delivery count)
 * and on what survives a restart. jqwik prints the seed of a failing run.
 */
class QueueModelProperties {
    static final long ACK_TIMEOUT = 1_000;
    static final int PREFETCH = 3;

    enum Kind { PUBLISH, ACK, NACK, STALE_ACK, ADVANCE, RESTART }

    record Op(Kind kind, int arg) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just(new Op(Kind.PUBLISH, 0))),
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(0, 99).map(i -> new Op(Kind.ACK, i))),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 99).map(i -> new Op(Kind.NACK, i))),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 99).map(i -> new Op(Kind.STALE_ACK, i))),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(1, (int) (2 * ACK_TIMEOUT))
                        .map(i -> new Op(Kind.ADVANCE, i))),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Op(Kind.RESTART, 0))));
        return op.list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 40)
    void engineAgreesWithModel(@ForAll("ops") @Size(max = 60) List<Op> ops) throws Exception {
        check(ops, QueueLimits.DEFAULT.withMaxMessageBytes(1024));
    }

    /** The same with every message kept on disk only (read back from the log for each delivery). */
    @Property(tries = 20)
    void engineAgreesWithModelWhenMessagesStayOnDisk(@ForAll("ops") @Size(max = 60) List<Op> ops) throws Exception {
        check(ops, QueueLimits.DEFAULT.withMaxMessageBytes(1024).withPageOutBytes(0));
    }

    private static void check(List<Op> ops, QueueLimits limits) throws Exception {
        Path dir = Files.createTempDirectory("tern-queue-model");
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> new Run(dir, limits).run(ops));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException ignored) {
                // Temp directory; the OS cleans up what is left.
            }
        }
    }

    /** One run: engine and model side by side. */
    static final class Run {
        final Path dir;
        final QueueLimits limits;
        final ManualTime time = new ManualTime();
        QueueEngine engine;
        RecordingConsumer consumer;

        // The model.
        long now = time.nowMillis();
        int nextId;
        final ArrayDeque<Integer> ready = new ArrayDeque<>();
        final ArrayDeque<Integer> redeliver = new ArrayDeque<>();
        /** Outstanding deliveries in delivery order: id, deadline, token (from the engine). */
        final List<long[]> out = new ArrayList<>();
        final Map<Integer, Integer> counts = new HashMap<>();
        final TreeSet<Integer> unsettled = new TreeSet<>();
        final List<Long> staleTokens = new ArrayList<>();
        int seen;

        Run(Path dir, QueueLimits limits) {
            this.dir = dir;
            this.limits = limits;
        }

        void open() {
            engine = QueueEngine.open(QueueEngineConfig.of(dir, limits, LogConfig.DEFAULT.withSegmentBytes(4096)),
                    time, time);
            engine.declare("q", QueueOptions.DURABLE.withAckTimeoutMillis(ACK_TIMEOUT));
            consumer = new RecordingConsumer();
            seen = 0;
            engine.subscribe("q", PREFETCH, consumer);
        }

        void run(List<Op> ops) {
            open();
            modelDispatch();
            check();
            try {
                for (Op op : ops) {
                    apply(op);
                    check();
                }
                restart();
                check();
                assertThat(engine.info("q").depth() + engine.info("q").unacked()).isEqualTo(unsettled.size());
            } finally {
                engine.close();
            }
        }

        void apply(Op op) {
            switch (op.kind()) {
                case PUBLISH -> {
                    int id = nextId++;
                    engine.publish("q", "s", new byte[0], Integer.toString(id).getBytes(StandardCharsets.UTF_8),
                            new Receipt());
                    unsettled.add(id);
                    ready.addLast(id);
                    modelDispatch();
                }
                case ACK, NACK -> {
                    if (out.isEmpty()) {
                        return;
                    }
                    long[] e = out.remove(op.arg() % out.size());
                    if (op.kind() == Kind.ACK) {
                        engine.ack("q", e[2]);
                        unsettled.remove((int) e[0]);
                    } else {
                        engine.nack("q", e[2], 0);
                        redeliver.addLast((int) e[0]);
                    }
                    staleTokens.add(e[2]);
                    modelDispatch();
                }
                case STALE_ACK -> {
                    if (staleTokens.isEmpty()) {
                        return;
                    }
                    long token = staleTokens.get(op.arg() % staleTokens.size());
                    assertThatThrownBy(() -> engine.ack("q", token)).isInstanceOfSatisfying(QueueException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.STALE_DELIVERY));
                }
                case ADVANCE -> {
                    long target = now + op.arg();
                    time.advance(op.arg());
                    while (!out.isEmpty() && out.get(0)[1] <= target) {
                        now = out.get(0)[1];
                        while (!out.isEmpty() && out.get(0)[1] <= now) {
                            long[] e = out.remove(0);
                            staleTokens.add(e[2]);
                            redeliver.addLast((int) e[0]);
                        }
                        modelDispatch();
                    }
                    now = target;
                }
                case RESTART -> restart();
            }
        }

        void restart() {
            engine.close();
            for (long[] e : out) {
                staleTokens.add(e[2]);
            }
            out.clear();
            redeliver.clear();
            ready.clear();
            ready.addAll(unsettled);
            open();
            modelDispatch();
        }

        /** Mirrors the engine: redeliveries first, then fresh messages, while the consumer has credit. */
        void modelDispatch() {
            while (out.size() < PREFETCH && (!redeliver.isEmpty() || !ready.isEmpty())) {
                int id = redeliver.isEmpty() ? ready.pollFirst() : redeliver.pollFirst();
                int count = counts.merge(id, 1, Integer::sum);
                assertThat(consumer.count()).as("engine delivered fewer than the model").isGreaterThan(seen);
                Delivery d = consumer.deliveries.get(seen++);
                assertThat(new String(d.payload(), StandardCharsets.UTF_8)).as("message delivered")
                        .isEqualTo(Integer.toString(id));
                assertThat(d.deliveryCount()).as("delivery count of " + id).isEqualTo(count);
                out.add(new long[] {id, now + ACK_TIMEOUT, d.token()});
            }
        }

        void check() {
            assertThat(consumer.count()).as("engine delivered more than the model").isEqualTo(seen);
            QueueInfo i = engine.info("q");
            assertThat(i.unacked()).isEqualTo(out.size());
            assertThat(i.depth()).isEqualTo(ready.size() + redeliver.size());
        }
    }
}
