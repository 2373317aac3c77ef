package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.Confirm;
import tern.client.ConnectOptions;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.Delivery;
import tern.client.Message;
import tern.client.QueueConsumer;
import tern.client.QueueOptions;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.client.Tern;
import tern.protocol.ErrorCode;
import tern.queue.QueueLimits;
import tern.testkit.BrokerLogGuard;
import tern.testkit.BrokerProcess;

/**
 * The broker-wide memory budget of queued messages (max_queue_memory_bytes): a producer that outruns every consumer
 * is refused with QUEUE_MEMORY_FULL instead of running the broker out of heap, everything else keeps working, and a
 * broker killed with a full budget starts again on the same heap with every confirmed message.
 */
@Timeout(120)
class QueueMemoryIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final byte[] KIB = new byte[1024];

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    Path dir;

    private static Connection connect(int port) {
        return Tern.connect(ConnectOptions.builder().host("127.0.0.1").port(port).reconnect(false)
                .connectTimeout(Duration.ofSeconds(10)).build());
    }

    /** Sends 1 KiB messages, 256 in flight, until one is refused; returns how many were confirmed. */
    private static long sendUntilRefused(Connection c, String queue, long atMost) throws Exception {
        List<CompletableFuture<Confirm>> window = new ArrayList<>();
        long confirmed = 0;
        for (long sent = 0; sent < atMost; sent += window.size()) {
            window.clear();
            for (int i = 0; i < 256; i++) {
                window.add(c.send(queue, KIB));
            }
            for (CompletableFuture<Confirm> f : window) {
                try {
                    f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    confirmed++;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(ServerException.class);
                    ServerException refusal = (ServerException) e.getCause();
                    assertThat(refusal.code()).as(refusal.getMessage()).isEqualTo(ErrorCode.QUEUE_MEMORY_FULL);
                    assertThat(refusal.getMessage()).contains("max_queue_memory_bytes");
                    return confirmed;
                }
            }
        }
        throw new AssertionError(atMost + " messages sent and none refused");
    }

    @Test
    void sendsPastTheBudgetAreRefusedWhilePubSubAndConsumersGoOn() throws Exception {
        long budget = 256 << 10;
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir.resolve("data"))
                .withQueueLimits(QueueLimits.DEFAULT.withMaxMemoryBytes(budget)));
             Connection producer = connect(broker.port());
             Connection other = connect(broker.port())) {
            producer.declareQueue("jobs", QueueOptions.durableQueue());
            other.declareQueue("mail", QueueOptions.builder().durable(false).build());

            long confirmed = sendUntilRefused(producer, "jobs", 10_000);
            // Up to half the budget the messages stay in memory; past it only their subject and overhead count.
            long inMemory = KIB.length + "jobs".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
            long onDisk = "jobs".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
            long kept = budget / 2 / inMemory;
            assertThat(confirmed).isEqualTo(kept + (budget - kept * inMemory) / onDisk);
            ServerException refused = QueueIT.serverError(other.send("mail", KIB));
            assertThat(refused.code()).as("the budget is the broker's, not the queue's")
                    .isEqualTo(ErrorCode.QUEUE_MEMORY_FULL);

            Subscription news = other.subscribe("news");
            other.flush(WAIT);
            producer.publish("news", KIB);
            Message m = news.next(WAIT);
            assertThat(m).as("pub/sub goes on while queues are full").isNotNull();

            QueueConsumer jobs = other.consume("jobs", ConsumeOptions.defaults().withPrefetch(10), null);
            for (int i = 0; i < 10; i++) {
                Delivery d = jobs.next(WAIT);
                assertThat(d).isNotNull();
                d.ack();
            }
            other.flush(WAIT);
            long deadline = System.nanoTime() + WAIT.toNanos();
            Confirm accepted = null;
            while (accepted == null) {
                // the acks free their messages' memory as the broker processes them
                try {
                    accepted = producer.send("mail", KIB).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    assertThat(System.nanoTime()).as("acks freed no room: " + e.getCause()).isLessThan(deadline);
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                }
            }
        }
    }

    /**
     * A child broker with a 96 MiB heap (so a 48 MiB budget) is filled until it refuses, killed with SIGKILL, and
     * started again on the same heap: it recovers every confirmed message. Without the budget the first broker dies
     * of OutOfMemoryError, and so does every restart on that heap.
     */
    @Test
    void aFullBudgetNeverRunsTheBrokerOutOfHeapAndARestartRecoversEveryConfirmedMessage() throws Exception {
        Path data = dir.resolve("child");
        List<String> heap = List.of("-Xmx96m");
        long confirmed;
        try (BrokerProcess broker = BrokerProcess.start(data, 0, heap, List.of());
             Connection producer = connect(broker.port())) {
            producer.declareQueue("backlog", QueueOptions.durableQueue());
            confirmed = sendUntilRefused(producer, "backlog", 200_000);
            assertThat(broker.isAlive()).as("broker alive after the refusal: %s", broker.logTail()).isTrue();
            broker.kill();
        }
        assertThat(confirmed).as("48 MiB of 1 KiB messages").isGreaterThan(30_000);
        try (BrokerProcess broker = BrokerProcess.start(data, 0, heap, List.of());
             Connection consumer = connect(broker.port())) {
            AtomicLong consumed = new AtomicLong();
            byte[][] wrong = new byte[1][];
            consumer.consume("backlog", ConsumeOptions.defaults().withPrefetch(1000), d -> {
                if (!Arrays.equals(d.payload(), KIB)) {
                    wrong[0] = d.payload();
                }
                consumed.incrementAndGet();
                d.ack();
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumed.get() < confirmed && System.nanoTime() < deadline && broker.isAlive()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            assertThat(consumed.get()).as("consumed after the restart: %s", broker.logTail()).isEqualTo(confirmed);
            assertThat(wrong[0]).isNull();
            assertThat(broker.logTail()).doesNotContain("OutOfMemoryError");
            System.out.println("QueueMemoryIT: " + confirmed + " x 1 KiB confirmed before QUEUE_MEMORY_FULL, all consumed"
                    + " after SIGKILL and a restart on -Xmx96m; " + broker.logTail().lines()
                    .filter(l -> l.contains("queue engine open")).findFirst().orElse("(no engine line)"));
        }
    }
}
