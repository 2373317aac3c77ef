package tern.peers;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import tern.client.Confirm;
import tern.client.ConnectOptions;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.QueueOptions;
import tern.client.Tern;

/**
 * W4 on Tern: a fresh durable queue per run with default options (fsync before confirm, group commit), the
 * producer uses {@code Connection.send} (pipelined publisher confirms) with the client's window
 * {@code ConnectOptions.maxUnconfirmed(maxInFlight)}, the consumer is on its own connection with
 * {@code consume(queue, ConsumeOptions(prefetch, manual ack), handler)} and {@code Delivery.ack()} per message.
 * The queue is deleted after the run.
 */
final class TernDurable implements DurableTarget {
    private static final Duration STALL = Duration.ofSeconds(10);
    private final TernServer server;
    private final int prefetch;
    private final AtomicInteger runs = new AtomicInteger();

    TernDurable(TernServer server, int prefetch) {
        this.server = server;
        this.prefetch = prefetch;
    }

    @Override
    public String name() {
        return "tern";
    }

    @Override
    public String fsyncBeforeConfirm() {
        return "yes: a durable queue (default options) confirms after an fsync covering the message (group commit:"
                + " one fsync covers every publish appended meanwhile); receipts say fsynced=true";
    }

    @Override
    public String settings() {
        return "durable queue (QueueOptions.durableQueue(): fsync before confirm), Connection.send with"
                + " maxUnconfirmed = --in-flight, consumer prefetch " + prefetch + ", Delivery.ack() per message";
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public DurableResult run(int messages, int payloadBytes, int maxInFlight, Pacer pacer, ConfirmLatency latency,
                             Duration timeout) throws Exception {
        String queue = "w4-tern-" + runs.incrementAndGet();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection producer = connect("w4-producer", maxInFlight);
             Connection consumer = connect("w4-consumer", maxInFlight)) {
            producer.declareQueue(queue, QueueOptions.durableQueue());
            try {
                AtomicLong consumed = new AtomicLong();
                AtomicLong lastConsumedNanos = new AtomicLong();
                consumer.consume(queue, new ConsumeOptions(prefetch, false), d -> {
                    d.ack();
                    consumed.incrementAndGet();
                    lastConsumedNanos.set(System.nanoTime());
                });
                consumer.flush(STALL);
                AtomicLong confirmed = new AtomicLong();
                AtomicLong nacked = new AtomicLong();
                byte[] payload = new byte[payloadBytes];
                Arrays.fill(payload, (byte) 'd');
                // The harness's own window, as for the other targets, so latency starts once a slot is taken; the
                // client's window (maxUnconfirmed, the same size) then never blocks send.
                Semaphore window = new Semaphore(maxInFlight);
                long t0 = System.nanoTime();
                latency.start(pacer.start());
                for (int i = 0; i < messages; i++) {
                    long due = pacer.awaitDue(i);
                    if (!window.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        throw new TimeoutException(name() + ": " + i + " published, confirm window never reopened");
                    }
                    long sent = pacer.origin(due);
                    CompletableFuture<Confirm> f = producer.send(queue, payload);
                    f.whenComplete((c, e) -> {
                        if (e == null) {
                            latency.record(sent, System.nanoTime());
                            confirmed.incrementAndGet();
                        } else {
                            nacked.incrementAndGet();
                        }
                        window.release();
                    });
                }
                Progress.await(() -> confirmed.get() + nacked.get(), messages, STALL, deadline, name() + " confirms");
                long n = Progress.await(consumed::get, messages, STALL, deadline, name() + " consumed");
                return DurableResult.of(messages, confirmed.get(), nacked.get(), n, t0, lastConsumedNanos.get(),
                        latency);
            } finally {
                producer.deleteQueue(queue);
            }
        }
    }

    private Connection connect(String name, int maxInFlight) {
        return Tern.connect(ConnectOptions.builder().host(server.host()).port(server.port()).name(name)
                .reconnect(false).maxUnconfirmed(maxInFlight).build());
    }
}
