package tern.peers;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * W4 on RabbitMQ: a durable queue of the given type (classic or quorum) on the default exchange,
 * persistent messages, publisher confirms on the producer's channel (at most maxInFlight unconfirmed),
 * and a consumer on its own connection with manual acks ({@code basicAck} per message, not multiple)
 * and a prefetch of {@code prefetch}. One fresh queue per run, deleted after it.
 */
final class RabbitDurable implements DurableTarget {
    private static final Duration STALL = Duration.ofSeconds(10);
    private final RabbitServer server;
    private final String queueType;
    private final int prefetch;
    private final AtomicInteger runs = new AtomicInteger();

    RabbitDurable(RabbitServer server, String queueType, int prefetch) {
        if (!queueType.equals("classic") && !queueType.equals("quorum")) {
            throw new IllegalArgumentException("queue type " + queueType + ", expected classic or quorum");
        }
        this.server = server;
        this.queueType = queueType;
        this.prefetch = prefetch;
    }

    @Override
    public String name() {
        return "rabbitmq-" + queueType;
    }

    @Override
    public String fsyncBeforeConfirm() {
        return queueType.equals("classic")
                ? "yes: confirms a persistent message to a durable queue after writing it to disk, fsyncs batched"
                : "yes: confirms after the Raft log entry is fsynced (single node: its own WAL), fsyncs batched";
    }

    @Override
    public String settings() {
        return "durable " + queueType + " queue (x-queue-type=" + queueType + ", other defaults), persistent messages,"
                + " confirmSelect + ConfirmListener, consumer basicQos(" + prefetch + ") manual basicAck per message";
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public DurableResult run(int messages, int payloadBytes, int maxInFlight, Pacer pacer, ConfirmLatency latency,
                             Duration timeout) throws Exception {
        String queue = "w4-" + queueType + "-" + runs.incrementAndGet();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection pconn = server.factory().newConnection("w4-producer");
             Connection cconn = server.factory().newConnection("w4-consumer")) {
            Channel pch = pconn.createChannel();
            pch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", queueType));
            try {
                AtomicLong consumed = new AtomicLong();
                AtomicLong lastConsumedNanos = new AtomicLong();
                Channel cch = cconn.createChannel();
                cch.basicQos(prefetch);
                cch.basicConsume(queue, false, new DefaultConsumer(cch) {
                    @Override
                    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
                            throws IOException {
                        getChannel().basicAck(env.getDeliveryTag(), false);
                        consumed.incrementAndGet();
                        lastConsumedNanos.set(System.nanoTime());
                    }
                });

                Confirms confirms = new Confirms(messages, maxInFlight, latency);
                pch.confirmSelect();
                pch.addConfirmListener((tag, multiple) -> confirms.settle(tag, multiple, true),
                        (tag, multiple) -> confirms.settle(tag, multiple, false));
                byte[] payload = new byte[payloadBytes];
                Arrays.fill(payload, (byte) 'd');
                long t0 = System.nanoTime();
                latency.start(pacer.start());
                for (int i = 0; i < messages; i++) {
                    long due = pacer.awaitDue(i);
                    if (!confirms.window.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        throw new TimeoutException(name() + ": " + i + " published, confirm window never reopened");
                    }
                    long seq = pch.getNextPublishSeqNo();
                    confirms.sentNanos.set((int) seq, pacer.origin(due));
                    pch.basicPublish("", queue, MessageProperties.PERSISTENT_BASIC, payload);
                }
                Progress.await(confirms::settled, messages, STALL, deadline, name() + " confirms");
                long n = Progress.await(consumed::get, messages, STALL, deadline, name() + " consumed");
                return DurableResult.of(messages, confirms.acked.get(), confirms.nacked.get(), n, t0,
                        lastConsumedNanos.get(), latency);
            } finally {
                try (Channel admin = pconn.createChannel()) {
                    admin.queueDelete(queue);
                }
            }
        }
    }

    /** Publisher-confirm bookkeeping; settle runs on the producer connection's single reader thread. */
    private static final class Confirms {
        final Semaphore window;
        final AtomicLongArray sentNanos;
        final AtomicLong acked = new AtomicLong();
        final AtomicLong nacked = new AtomicLong();
        private final BitSet done;
        private final ConfirmLatency latency;
        private long lowestOpen = 1; // delivery tags (publish sequence numbers) start at 1

        Confirms(int messages, int maxInFlight, ConfirmLatency latency) {
            this.latency = latency;
            window = new Semaphore(maxInFlight);
            sentNanos = new AtomicLongArray(messages + 1);
            done = new BitSet(messages + 1);
        }

        synchronized void settle(long tag, boolean multiple, boolean ack) {
            long now = System.nanoTime();
            long from = multiple ? lowestOpen : tag;
            for (long s = from; s <= tag; s++) {
                if (!done.get((int) s)) {
                    done.set((int) s);
                    if (ack) {
                        acked.incrementAndGet();
                        latency.record(sentNanos.get((int) s), now);
                    } else {
                        nacked.incrementAndGet();
                    }
                    window.release();
                }
            }
            lowestOpen = done.nextClearBit((int) lowestOpen);
        }

        long settled() {
            return acked.get() + nacked.get();
        }
    }
}
