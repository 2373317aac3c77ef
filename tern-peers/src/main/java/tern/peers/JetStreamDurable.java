package tern.peers;

import io.nats.client.Connection;
import io.nats.client.ConsumerContext;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.MessageConsumer;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * W4 on NATS JetStream (nats-server -js -sd DIR): a file-storage stream with default settings, the
 * producer uses {@code JetStream.publishAsync} with at most maxInFlight publish acks outstanding, the
 * consumer is a durable pull consumer ({@code ConsumerContext.consume}, default ConsumeOptions) with
 * explicit acks, {@code msg.ack()} per message. One fresh stream per run, deleted after it.
 */
final class JetStreamDurable implements DurableTarget {
    private static final Duration STALL = Duration.ofSeconds(10);
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);
    private final NatsServer server;
    private final int bufferBytes;
    private final AtomicInteger runs = new AtomicInteger();

    JetStreamDurable(NatsServer server, int bufferBytes) {
        this.server = server;
        this.bufferBytes = bufferBytes;
    }

    @Override
    public String name() {
        return "jetstream";
    }

    @Override
    public String fsyncBeforeConfirm() {
        return "no: nats-server 2.9 acks a publish once written to the file store (page cache) and fsyncs every"
                + " 2 min (sync_interval default)";
    }

    @Override
    public String settings() {
        return "file-storage stream (defaults, limits retention), publishAsync, durable pull consumer via"
                + " ConsumerContext.consume (default ConsumeOptions), AckPolicy.Explicit, msg.ack() per message;"
                + " jnats bufferSize " + bufferBytes;
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public DurableResult run(int messages, int payloadBytes, int maxInFlight, Pacer pacer, ConfirmLatency latency,
                             Duration timeout) throws Exception {
        int runNo = runs.incrementAndGet();
        String stream = "W4_" + runNo;
        String subject = "w4.run" + runNo;
        long deadline = System.nanoTime() + timeout.toNanos();
        Connection producer = NatsTarget.connect(server.url(), "w4-producer", bufferBytes);
        Connection consumer = null;
        try {
            consumer = NatsTarget.connect(server.url(), "w4-consumer", bufferBytes);
            JetStreamManagement jsm = producer.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(stream).subjects(subject)
                    .storageType(StorageType.File).build());
            try {
                ConsumerContext cc = consumer.getStreamContext(stream).createOrUpdateConsumer(
                        ConsumerConfiguration.builder().durable("w4").ackPolicy(AckPolicy.Explicit).build());
                AtomicLong consumed = new AtomicLong();
                AtomicLong lastConsumedNanos = new AtomicLong();
                MessageConsumer mc = cc.consume(msg -> {
                    msg.ack();
                    consumed.incrementAndGet();
                    lastConsumedNanos.set(System.nanoTime());
                });
                try {
                    JetStream js = producer.jetStream();
                    byte[] payload = new byte[payloadBytes];
                    Arrays.fill(payload, (byte) 'd');
                    Semaphore inFlight = new Semaphore(maxInFlight);
                    AtomicLong confirmed = new AtomicLong();
                    AtomicLong failed = new AtomicLong();
                    long t0 = System.nanoTime();
                    latency.start(pacer.start());
                    for (int i = 0; i < messages; i++) {
                        long due = pacer.awaitDue(i);
                        if (!inFlight.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                            throw new TimeoutException("jetstream: " + i + " published, window never reopened");
                        }
                        long sent = pacer.origin(due);
                        js.publishAsync(subject, payload).whenComplete((ack, err) -> {
                            if (err != null || ack == null || ack.hasError()) {
                                failed.incrementAndGet();
                            } else {
                                latency.record(sent, System.nanoTime());
                                confirmed.incrementAndGet();
                            }
                            inFlight.release();
                        });
                    }
                    Progress.await(() -> confirmed.get() + failed.get(), messages, STALL, deadline, "jetstream confirms");
                    long n = Progress.await(consumed::get, messages, STALL, deadline, "jetstream consumed");
                    return DurableResult.of(messages, confirmed.get(), failed.get(), n, t0, lastConsumedNanos.get(),
                            latency);
                } finally {
                    // stop pulling and let the outstanding pull finish before the stream goes away
                    mc.stop();
                    long until = System.nanoTime() + STOP_WAIT.toNanos();
                    while (!mc.isFinished() && System.nanoTime() < until) {
                        Thread.sleep(10); // polling to a deadline; jnats offers no completion callback here
                    }
                }
            } finally {
                jsm.deleteStream(stream);
            }
        } finally {
            if (consumer != null) {
                NatsTarget.closeQuietly(consumer);
            }
            NatsTarget.closeQuietly(producer);
        }
    }
}
