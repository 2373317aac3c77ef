package tern.cli.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import tern.cli.CommandFailedException;
import tern.cli.Failures;
import tern.client.Confirm;
import tern.client.ConnectOptions;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.QueueConsumer;
import tern.client.QueueOptions;
import tern.client.Tern;
import tern.client.TernException;

/**
 * Durable queue round trip: one producer sends with publisher confirms (at most inFlight unconfirmed, the
 * client's window), K consumers on their own connections ack each delivery. Confirm latency (send call to
 * confirm) goes into an HdrHistogram; the first 8 bytes of each payload are its id, so the run can prove that
 * every confirmed id was consumed (zero loss) and count redeliveries. One fresh durable queue (fsync before
 * confirm) per run, deleted after it.
 */
final class QueueWorkload {
    /** Most messages one run tracks (a bit per id and a timestamp per id: 8 bytes each). */
    static final long MAX_MSGS = 10_000_000L;
    static final int MAX_CONSUMERS = 64;
    static final int MAX_IN_FLIGHT = 65_536;
    private static final long HIGHEST_TRACKABLE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final BenchContext context;

    QueueWorkload(BenchContext context) {
        this.context = context;
    }

    BenchResult run(int run, String queue, int msgs, int sizeBytes, int consumers, int inFlight, boolean show)
            throws Exception {
        if (sizeBytes < Long.BYTES) {
            throw new IllegalArgumentException("queue bench payload must hold its 8-byte id: --size " + sizeBytes);
        }
        Histogram confirmNanos = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
        AtomicLongArray seen = new AtomicLongArray((msgs + 63) / 64);
        AtomicLong consumed = new AtomicLong();
        AtomicLong redelivered = new AtomicLong();
        AtomicLong wrongSize = new AtomicLong();
        AtomicLong lastAckNanos = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Connection> consumerConnections = new ArrayList<>();
        try (Connection producer = connect("bench-queue-producer", inFlight)) {
            producer.declareQueue(queue, QueueOptions.durableQueue());
            try {
                for (int i = 0; i < consumers; i++) {
                    Connection cc = connect("bench-queue-consumer-" + i, inFlight);
                    consumerConnections.add(cc);
                    cc.consume(queue, new ConsumeOptions(Math.min(inFlight, ConsumeOptions.defaults().prefetch() * 4),
                            false), d -> {
                                byte[] p = d.payload();
                                if (p.length != sizeBytes) {
                                    wrongSize.incrementAndGet();
                                } else {
                                    long id = ByteBuffer.wrap(p).getLong(0);
                                    if (id >= 0 && id < msgs && mark(seen, id)) {
                                        consumed.incrementAndGet();
                                    } else {
                                        redelivered.incrementAndGet();
                                    }
                                }
                                d.ack();
                                lastAckNanos.set(System.nanoTime());
                            });
                    cc.flush(context.timeout());
                }
                AtomicLong confirmed = new AtomicLong();
                AtomicLong refused = new AtomicLong();
                Progress bar = Progress.start(show, context.err(), "queue", msgs, consumed::get);
                long start = System.nanoTime();
                long endConfirm;
                try {
                    byte[] payload = FanoutWorkload.payload(sizeBytes);
                    for (int i = 0; i < msgs && failure.get() == null; i++) {
                        byte[] p = payload.clone();
                        ByteBuffer.wrap(p).putLong(0, i);
                        long t0 = System.nanoTime();
                        CompletableFuture<Confirm> f = producer.send(queue, p);
                        f.whenComplete((c, e) -> {
                            if (e != null) {
                                refused.incrementAndGet();
                                failure.compareAndSet(null, e);
                            } else {
                                long nanos = System.nanoTime() - t0;
                                synchronized (confirmNanos) {
                                    confirmNanos.recordValue(Math.min(nanos, HIGHEST_TRACKABLE_NANOS));
                                }
                                confirmed.incrementAndGet();
                            }
                        });
                    }
                    awaitCount(confirmed, refused, msgs, "confirms");
                    endConfirm = System.nanoTime();
                    awaitCount(consumed, new AtomicLong(), confirmed.get(), "consumer acks");
                } finally {
                    bar.stop();
                }
                if (failure.get() != null) {
                    throw new CommandFailedException("send failed after " + confirmed.get() + " confirms: "
                            + Failures.reason(failure.get()), failure.get());
                }
                // the consumers acked per delivery without waiting; a round trip each proves the broker has them
                for (Connection cc : consumerConnections) {
                    cc.flush(context.timeout());
                }
                double confirmSeconds = Math.max(1, endConfirm - start) / 1e9;
                double e2eSeconds = Math.max(1, lastAckNanos.get() - start) / 1e9;
                Histogram h;
                synchronized (confirmNanos) {
                    h = confirmNanos.copy();
                }
                BenchResult.Latency latency = new BenchResult.Latency(micros(h.getValueAtPercentile(50)),
                        micros(h.getValueAtPercentile(90)), micros(h.getValueAtPercentile(99)),
                        micros(h.getValueAtPercentile(99.9)), micros(h.getMaxValue()), h.getMean() / 1e3);
                return new BenchResult(Workload.QUEUE, run, msgs, sizeBytes, consumers, e2eSeconds,
                        consumed.get() / e2eSeconds, confirmed.get() / confirmSeconds, confirmed.get(), consumed.get(),
                        redelivered.get(), wrongSize.get(), latency);
            } finally {
                for (Connection cc : consumerConnections) {
                    cc.close();
                }
                try {
                    producer.deleteQueue(queue);
                } catch (TernException e) {
                    context.err().println("could not delete bench queue " + queue + ": " + Failures.reason(e));
                }
            }
        }
    }

    /** Sets the id's bit; true when it was clear (first delivery of that id). */
    private static boolean mark(AtomicLongArray seen, long id) {
        int word = (int) (id >>> 6);
        long bit = 1L << (id & 63);
        while (true) {
            long old = seen.get(word);
            if ((old & bit) != 0) {
                return false;
            }
            if (seen.compareAndSet(word, old, old | bit)) {
                return true;
            }
        }
    }

    /** Waits until done + failed reaches target, failing when nothing moves for the stall timeout. */
    private void awaitCount(AtomicLong done, AtomicLong failed, long target, String what) throws InterruptedException {
        long last = -1;
        long lastMove = System.nanoTime();
        while (done.get() + failed.get() < target) {
            long now = done.get() + failed.get();
            if (now != last) {
                last = now;
                lastMove = System.nanoTime();
            } else if (System.nanoTime() - lastMove > context.timeout().toNanos()) {
                throw new CommandFailedException(what + " stalled at " + now + " of " + target + " for "
                        + context.timeout().toMillis() + " ms");
            }
            Thread.sleep(1);
        }
    }

    private Connection connect(String name, int inFlight) {
        ConnectOptions options = ConnectOptions.builder()
                .host(context.host())
                .port(context.port())
                .name(name)
                .connectTimeout(Duration.ofSeconds(5))
                .reconnect(false)
                .maxUnconfirmed(inFlight)
                .build();
        try {
            return Tern.connect(options);
        } catch (TernException e) {
            throw new CommandFailedException("cannot connect to " + context.host() + ":" + context.port() + ": "
                    + Failures.reason(e), e);
        }
    }

    private static double micros(long nanos) {
        return nanos / 1e3;
    }
}
