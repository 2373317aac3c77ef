package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.Confirm;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ConnectionEvent;
import tern.client.ConnectionListener;
import tern.client.ConsumeOptions;
import tern.client.Delivery;
import tern.client.Overflow;
import tern.client.QueueConsumer;
import tern.client.QueueInfo;
import tern.client.QueueOptions;
import tern.client.ServerException;
import tern.client.Tern;
import tern.client.TernException;
import tern.protocol.ErrorCode;
import tern.testkit.BrokerLogGuard;

/** Durable queues end to end: the real broker on 127.0.0.1 port 0 with a temporary data directory, the real client. */
@Timeout(60)
class QueueIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration SHORT = Duration.ofMillis(300);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    Path dir;

    private TernBroker broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<TernException> errors = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startBroker() {
        broker = startBroker(0);
    }

    private TernBroker startBroker(int port) {
        return TernBroker.start(BrokerConfig.defaults().withPort(port).withDataDir(dir.resolve("data")));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private Connection connect() {
        ConnectionListener listener = new ConnectionListener() {
            @Override
            public void onEvent(ConnectionEvent event, Connection connection) {
            }

            @Override
            public void onError(TernException error) {
                errors.add(error);
            }
        };
        Connection c = Tern.connect(ConnectOptions.builder().host("127.0.0.1").port(broker.port()).listener(listener)
                .reconnect(false).build());
        closeables.add(c);
        return c;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    private static String text(Delivery d) {
        return new String(d.payload(), UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(5); // polling to a deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static QueueInfo info(Connection c, String name) {
        return c.listQueues().stream().filter(q -> q.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("queue " + name + " not listed"));
    }

    private static Delivery next(QueueConsumer consumer) {
        Delivery d = consumer.next(WAIT);
        assertThat(d).as("a delivery within " + WAIT).isNotNull();
        return d;
    }

    /** The ServerException f failed with (within 10 s); an AssertionError for anything else. */
    static ServerException serverError(CompletableFuture<?> f) throws InterruptedException {
        try {
            f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ServerException.class);
            return (ServerException) e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no answer", e);
        }
        throw new AssertionError("expected a ServerException");
    }

    // ---- declare, send, confirm --------------------------------------------------------------------------

    @Test
    void declareWithSameOptionsSucceedsAndDifferentOptionsFail() {
        Connection c = connect();
        QueueOptions options = QueueOptions.builder().ackTimeout(Duration.ofSeconds(10)).maxDeliveries(3).build();
        QueueInfo first = c.declareQueue("orders", options);
        assertThat(first.name()).isEqualTo("orders");
        assertThat(first.durable()).isTrue();
        assertThat(first.options()).isEqualTo(options);
        assertThat(c.declareQueue("orders", options).options()).isEqualTo(options);
        assertThatThrownBy(() -> c.declareQueue("orders", options.toBuilder().maxDeliveries(4).build()))
                .isInstanceOfSatisfying(ServerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_OPTIONS_MISMATCH);
                    assertThat(e.text()).contains("maxDeliveries");
                });
        assertThatThrownBy(() -> c.declareQueue("bad name", options)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.declareQueue("q", options.toBuilder().deadLetterQueue("missing").build()))
                .isInstanceOfSatisfying(ServerException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND));
        c.flush();
    }

    @Test
    void sendIsConfirmedWithItsOffsetAndFsyncedForDurableQueues() throws Exception {
        Connection c = connect();
        c.declareQueue("durable", QueueOptions.durableQueue());
        c.declareQueue("transient", QueueOptions.transientQueue());
        List<CompletableFuture<Confirm>> sent = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            sent.add(c.send("durable", Map.of("n", Integer.toString(i)), bytes("m" + i)));
        }
        for (int i = 0; i < sent.size(); i++) {
            Confirm confirm = sent.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(confirm).isEqualTo(new Confirm("durable", i, true));
        }
        Confirm t = c.sendAndWait("transient", bytes("x"), WAIT);
        assertThat(t.queue()).isEqualTo("transient");
        assertThat(t.fsynced()).isFalse();
        assertThat(serverError(c.send("missing", bytes("x"))).code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND);
        assertThat(info(c, "durable").depth()).isEqualTo(100);
        assertThat(info(c, "durable").published()).isEqualTo(100);
    }

    // ---- consume and settle --------------------------------------------------------------------------------

    @Test
    void consumeAndAckEmptiesTheQueue() throws Exception {
        Connection c = connect();
        c.declareQueue("jobs", QueueOptions.durableQueue());
        for (int i = 0; i < 3; i++) {
            c.sendAndWait("jobs", bytes("job" + i), WAIT);
        }
        QueueConsumer consumer = c.consume("jobs", ConsumeOptions.defaults(), null);
        for (int i = 0; i < 3; i++) {
            Delivery d = next(consumer);
            assertThat(text(d)).isEqualTo("job" + i);
            assertThat(d.queue()).isEqualTo("jobs");
            assertThat(d.subject()).isEqualTo("jobs");
            assertThat(d.offset()).isEqualTo(i);
            assertThat(d.deliveryCount()).isEqualTo(1);
            assertThat(d.redelivered()).isFalse();
            assertThat(d.deadLetterOrigin()).isNull();
            d.ack();
        }
        await(() -> {
            QueueInfo q = info(c, "jobs");
            return q.acked() == 3 && q.unacked() == 0 && q.depth() == 0;
        }, "three acks");
        assertThat(consumer.next(SHORT)).isNull();
        assertThat(errors).isEmpty();
    }

    @Test
    void pushHandlerReceivesOnTheDispatchThreadWithHeaders() throws Exception {
        Connection c = connect();
        c.declareQueue("push", QueueOptions.transientQueue());
        LinkedBlockingQueue<Delivery> got = new LinkedBlockingQueue<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        c.consume("push", ConsumeOptions.defaults(), d -> {
            threads.add(Thread.currentThread().getName());
            d.ack();
            got.add(d);
        });
        c.send("push", Map.of("trace", "ab12"), bytes("hello")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        Delivery d = got.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(d).isNotNull();
        assertThat(d.headers()).containsExactly(Map.entry("trace", "ab12"));
        assertThat(text(d)).isEqualTo("hello");
        assertThat(threads).allMatch(t -> t.startsWith("tern-dispatch-"));
    }

    @Test
    void prefetchBoundsUnackedDeliveries() {
        Connection c = connect();
        c.declareQueue("bounded", QueueOptions.transientQueue());
        for (int i = 0; i < 5; i++) {
            c.sendAndWait("bounded", bytes("m" + i), WAIT);
        }
        QueueConsumer consumer = c.consume("bounded", ConsumeOptions.defaults().withPrefetch(2), null);
        Delivery a = next(consumer);
        Delivery b = next(consumer);
        assertThat(consumer.next(SHORT)).as("a third delivery beyond prefetch 2").isNull();
        assertThat(info(c, "bounded").unacked()).isEqualTo(2);
        a.ack();
        assertThat(text(next(consumer))).isEqualTo("m2");
        assertThat(consumer.next(SHORT)).isNull();
        b.ack();
        assertThat(text(next(consumer))).isEqualTo("m3");
    }

    @Test
    void nackRequeuesAtOnceOrAfterADelay() {
        Connection c = connect();
        c.declareQueue("retry", QueueOptions.transientQueue());
        c.sendAndWait("retry", bytes("x"), WAIT);
        QueueConsumer consumer = c.consume("retry", ConsumeOptions.defaults(), null);
        Delivery first = next(consumer);
        first.nack(null);
        Delivery second = next(consumer);
        assertThat(second.deliveryCount()).isEqualTo(2);
        assertThat(second.redelivered()).isTrue();
        assertThat(second.offset()).isEqualTo(first.offset());
        assertThat(second.token()).isNotEqualTo(first.token());
        long start = System.nanoTime();
        second.nack(Duration.ofMillis(500));
        Delivery third = next(consumer);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(450);
        assertThat(third.deliveryCount()).isEqualTo(3);
        third.ack();
        assertThat(errors).isEmpty();
    }

    @Test
    void rejectSendsToTheDeadLetterQueueWithItsReason() {
        Connection c = connect();
        c.declareQueue("orders.dlq", QueueOptions.durableQueue());
        c.declareQueue("orders", QueueOptions.builder().deadLetterQueue("orders.dlq").build());
        c.sendAndWait("orders", bytes("bad"), WAIT);
        QueueConsumer consumer = c.consume("orders", ConsumeOptions.defaults(), null);
        next(consumer).reject();
        QueueConsumer dead = c.consume("orders.dlq", ConsumeOptions.defaults(), null);
        Delivery d = next(dead);
        assertThat(text(d)).isEqualTo("bad");
        assertThat(d.deadLetterOrigin()).isEqualTo("orders");
        assertThat(d.deadLetterReason()).isEqualTo("REJECTED");
        assertThat(d.subject()).isEqualTo("orders");
        d.ack();
    }

    @Test
    void maxDeliveriesDeadLettersTheMessage() {
        Connection c = connect();
        c.declareQueue("dlq", QueueOptions.transientQueue());
        c.declareQueue("flaky", QueueOptions.builder().durable(false).maxDeliveries(2).deadLetterQueue("dlq").build());
        c.sendAndWait("flaky", bytes("poison"), WAIT);
        QueueConsumer consumer = c.consume("flaky", ConsumeOptions.defaults(), null);
        next(consumer).nack(null);
        Delivery second = next(consumer);
        assertThat(second.deliveryCount()).isEqualTo(2);
        second.nack(null);
        assertThat(consumer.next(SHORT)).as("no third delivery").isNull();
        Delivery d = next(c.consume("dlq", ConsumeOptions.defaults(), null));
        assertThat(d.deadLetterReason()).isEqualTo("MAX_DELIVERIES");
        assertThat(d.deadLetterOrigin()).isEqualTo("flaky");
    }

    @Test
    void ackTimeoutRedeliversWithAHigherCount() {
        Connection c = connect();
        c.declareQueue("slow", QueueOptions.builder().durable(false).ackTimeout(Duration.ofMillis(200)).build());
        c.sendAndWait("slow", bytes("x"), WAIT);
        QueueConsumer consumer = c.consume("slow", ConsumeOptions.defaults(), null);
        Delivery first = next(consumer);
        assertThat(first.deliveryCount()).isEqualTo(1);
        Delivery again = next(consumer);
        assertThat(again.deliveryCount()).isEqualTo(2);
        assertThat(again.offset()).isEqualTo(first.offset());
        again.ack();
    }

    @Test
    void staleAckIsFencedAndTheConnectionKeepsWorking() {
        Connection c = connect();
        c.declareQueue("fenced", QueueOptions.builder().durable(false).ackTimeout(Duration.ofMillis(200)).build());
        c.sendAndWait("fenced", bytes("x"), WAIT);
        QueueConsumer consumer = c.consume("fenced", ConsumeOptions.defaults(), null);
        Delivery timedOut = next(consumer);
        Delivery current = next(consumer);
        assertThat(current.deliveryCount()).isEqualTo(2);
        timedOut.ack();
        await(() -> !errors.isEmpty(), "STALE_DELIVERY reported to the listener");
        assertThat(errors.get(0)).isInstanceOfSatisfying(ServerException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.STALE_DELIVERY);
            assertThat(e.text()).contains(Long.toString(timedOut.token()));
        });
        current.ack();
        c.sendAndWait("fenced", bytes("y"), WAIT);
        Delivery next = next(consumer);
        assertThat(text(next)).isEqualTo("y");
        next.ack();
        c.flush();
        await(() -> info(c, "fenced").acked() == 2, "both acks counted");
        assertThat(errors).hasSize(1);
        logs.expect("STALE_DELIVERY");
    }

    @Test
    void expiredMessagesGoToTheDeadLetterQueue() {
        Connection c = connect();
        c.declareQueue("expired", QueueOptions.transientQueue());
        c.declareQueue("ttl", QueueOptions.builder().durable(false).messageTtl(Duration.ofMillis(100))
                .deadLetterQueue("expired").build());
        c.sendAndWait("ttl", bytes("late"), WAIT);
        Delivery d = next(c.consume("expired", ConsumeOptions.defaults(), null));
        assertThat(d.deadLetterReason()).isEqualTo("EXPIRED");
        assertThat(d.deadLetterOrigin()).isEqualTo("ttl");
        assertThat(info(c, "ttl").depth()).isZero();
    }

    @Test
    void overflowRejectsOrDropsTheHead() throws Exception {
        Connection c = connect();
        c.declareQueue("full", QueueOptions.builder().durable(false).maxLength(2, 0, Overflow.REJECT).build());
        c.sendAndWait("full", bytes("1"), WAIT);
        c.sendAndWait("full", bytes("2"), WAIT);
        assertThat(serverError(c.send("full", bytes("3"))).code()).isEqualTo(ErrorCode.QUEUE_FULL);

        c.declareQueue("ring", QueueOptions.builder().durable(false).maxLength(2, 0, Overflow.DROP_HEAD).build());
        for (int i = 1; i <= 3; i++) {
            c.sendAndWait("ring", bytes(Integer.toString(i)), WAIT);
        }
        QueueConsumer consumer = c.consume("ring", ConsumeOptions.defaults(), null);
        assertThat(text(next(consumer))).isEqualTo("2");
        assertThat(text(next(consumer))).isEqualTo("3");
    }

    @Test
    void noAckQueuesNeedNoAcks() {
        Connection c = connect();
        c.declareQueue("fire", QueueOptions.builder().durable(false).noAck(true).build());
        for (int i = 0; i < 5; i++) {
            c.sendAndWait("fire", bytes("m" + i), WAIT);
        }
        QueueConsumer consumer = c.consume("fire", ConsumeOptions.defaults().withPrefetch(1), null);
        for (int i = 0; i < 5; i++) {
            assertThat(text(next(consumer))).isEqualTo("m" + i);
        }
        await(() -> info(c, "fire").acked() == 5 && info(c, "fire").unacked() == 0, "no-ack settlement");
    }

    @Test
    void autoAckConsumersSettleOnDelivery() {
        Connection c = connect();
        c.declareQueue("auto", QueueOptions.transientQueue());
        for (int i = 0; i < 5; i++) {
            c.sendAndWait("auto", bytes("m" + i), WAIT);
        }
        QueueConsumer consumer = c.consume("auto", new ConsumeOptions(1, true), null);
        for (int i = 0; i < 5; i++) {
            assertThat(text(next(consumer))).isEqualTo("m" + i);
        }
        await(() -> info(c, "auto").acked() == 5, "auto-acks");
    }

    // ---- admin -------------------------------------------------------------------------------------------

    @Test
    void purgeDeleteAndList() throws Exception {
        Connection c = connect();
        c.declareQueue("b", QueueOptions.transientQueue());
        c.declareQueue("a", QueueOptions.durableQueue());
        assertThat(c.listQueues()).extracting(QueueInfo::name).containsExactly("a", "b");
        for (int i = 0; i < 3; i++) {
            c.sendAndWait("a", bytes("m" + i), WAIT);
        }
        assertThat(broker.stats().queueDepth()).isEqualTo(3);
        assertThat(c.purgeQueue("a")).isEqualTo(3);
        assertThat(info(c, "a").depth()).isZero();

        Connection other = connect();
        QueueConsumer consumer = other.consume("b", ConsumeOptions.defaults(), null);
        c.deleteQueue("b");
        assertThat(c.listQueues()).extracting(QueueInfo::name).containsExactly("a");
        assertThat(broker.stats().queues()).isEqualTo(1);
        assertThat(consumer.next(WAIT)).as("the consumer of a deleted queue ends").isNull();
        assertThat(serverError(c.send("b", bytes("x"))).code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND);
        assertThatThrownBy(() -> c.deleteQueue("b")).isInstanceOfSatisfying(ServerException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND));
        assertThatThrownBy(() -> c.purgeQueue("b")).isInstanceOf(ServerException.class);
        await(() -> !errors.isEmpty(), "the deleted queue's consumer is told");
        assertThat(errors).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(ServerException.class,
                s -> assertThat(s.code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND)));
    }

    @Test
    void redriveSendsDeadLettersBackAsFreshMessages() {
        Connection c = connect();
        c.declareQueue("work.dlq", QueueOptions.durableQueue());
        c.declareQueue("work", QueueOptions.builder().deadLetterQueue("work.dlq").build());
        for (int i = 0; i < 2; i++) {
            c.sendAndWait("work", bytes("m" + i), WAIT);
        }
        QueueConsumer consumer = c.consume("work", ConsumeOptions.defaults(), null);
        next(consumer).reject();
        next(consumer).reject();
        await(() -> info(c, "work.dlq").depth() == 2, "two dead letters");
        assertThat(c.redrive("work.dlq", null)).isEqualTo(2);
        Delivery back = next(consumer);
        assertThat(back.deliveryCount()).isEqualTo(1);
        assertThat(back.deadLetterOrigin()).isNull();
        assertThat(text(back)).isEqualTo("m0");
        back.ack();
        next(consumer).ack();
        await(() -> info(c, "work.dlq").depth() == 0, "the dead-letter queue emptied");
    }

    // ---- bindings ----------------------------------------------------------------------------------------

    @Test
    void aBindingCapturesPublishedMessages() {
        Connection c = connect();
        QueueInfo q = c.declareQueue("captured", QueueOptions.builder().bind("orders.*").build());
        assertThat(q.options().bindings()).containsExactly("orders.*");
        Connection publisher = connect();
        publisher.publish("orders.eu", null, Map.of("k", "v"), bytes("42"));
        publisher.publish("other.eu", bytes("no"));
        publisher.flush();
        QueueConsumer consumer = c.consume("captured", ConsumeOptions.defaults(), null);
        Delivery d = next(consumer);
        assertThat(d.subject()).isEqualTo("orders.eu");
        assertThat(d.headers()).containsExactly(Map.entry("k", "v"));
        assertThat(text(d)).isEqualTo("42");
        d.ack();
        assertThat(consumer.next(SHORT)).isNull();
    }

    @Test
    void bindAndUnbindAnExistingQueue() {
        Connection c = connect();
        c.declareQueue("late", QueueOptions.durableQueue());
        Connection publisher = connect();
        publisher.publish("orders.eu", bytes("before"));
        publisher.flush();

        assertThat(c.bindQueue("late", "orders.*")).isTrue();
        assertThat(c.bindQueue("late", "orders.*")).as("already bound").isFalse();
        assertThat(info(c, "late").options().bindings()).containsExactly("orders.*");
        publisher.publish("orders.eu", null, Map.of("k", "v"), bytes("captured"));
        publisher.publish("other.eu", bytes("not bound"));
        publisher.flush();
        QueueConsumer consumer = c.consume("late", ConsumeOptions.defaults(), null);
        Delivery d = next(consumer);
        assertThat(d.subject()).isEqualTo("orders.eu");
        assertThat(d.headers()).containsExactly(Map.entry("k", "v"));
        assertThat(text(d)).as("published before the bind: not captured").isEqualTo("captured");
        d.ack();

        assertThat(c.unbindQueue("late", "orders.*")).isTrue();
        assertThat(c.unbindQueue("late", "orders.*")).as("no longer bound").isFalse();
        assertThat(c.unbindQueue("late", "orders.>")).as("never bound").isFalse();
        assertThat(info(c, "late").options().bindings()).isEmpty();
        publisher.publish("orders.eu", bytes("after unbind"));
        publisher.flush();
        assertThat(consumer.next(SHORT)).as("nothing captured after the unbind").isNull();
        assertThat(info(c, "late").published()).isEqualTo(1);

        assertThatThrownBy(() -> c.bindQueue("missing", "orders.*")).isInstanceOfSatisfying(ServerException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND));
        assertThatThrownBy(() -> c.unbindQueue("missing", "orders.*")).isInstanceOfSatisfying(ServerException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND));
        assertThatThrownBy(() -> c.bindQueue("late", "orders..eu")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.bindQueue("bad name", "orders.*")).isInstanceOf(IllegalArgumentException.class);
        assertThat(errors).isEmpty();
    }

    @Test
    void aBindingAddedLaterSurvivesARestartAndAnUnbindToo() throws Exception {
        int port;
        {
            Connection c = connect();
            c.declareQueue("kept", QueueOptions.builder().bind("a.*").build());
            assertThat(c.bindQueue("kept", "b.*")).isTrue();
            assertThat(c.unbindQueue("kept", "a.*")).isTrue();
            port = broker.port();
            c.close();
            broker.close();
        }
        broker = startBroker(port);
        Connection c = connect();
        assertThat(info(c, "kept").options().bindings()).containsExactly("b.*");
        Connection publisher = connect();
        publisher.publish("a.x", bytes("a"));
        publisher.publish("b.x", bytes("b"));
        publisher.flush();
        QueueConsumer consumer = c.consume("kept", ConsumeOptions.defaults(), null);
        Delivery d = next(consumer);
        assertThat(text(d)).isEqualTo("b");
        d.ack();
        assertThat(consumer.next(SHORT)).isNull();
    }

    /**
     * A queue deleted because it expired must leave the broker's cache of bound queues: otherwise a new queue of the
     * same name, declared without bindings, would still capture the old binding's messages.
     */
    @Test
    void anExpiredQueueTakesItsBindingsWithIt() {
        Connection c = connect();
        c.declareQueue("tap", QueueOptions.builder().durable(false).expires(Duration.ofSeconds(1)).bind("tap.*")
                .build());
        Connection publisher = connect();
        publisher.publish("tap.1", bytes("captured"));
        publisher.flush(); // the broker now caches: tap.1 -> [tap]
        assertThat(info(c, "tap").depth()).isEqualTo(1);
        await(() -> c.listQueues().stream().noneMatch(q -> q.name().equals("tap")), "queue 'tap' to expire");

        c.declareQueue("tap", QueueOptions.transientQueue());
        publisher.publish("tap.1", bytes("must not be captured"));
        publisher.flush();
        assertThat(info(c, "tap").options().bindings()).isEmpty();
        assertThat(info(c, "tap").depth()).as("a message routed by the expired queue's binding").isZero();
        assertThat(info(c, "tap").published()).isZero();
    }

    // ---- restarts and disconnects ------------------------------------------------------------------------

    @Test
    void aDurableQueueSurvivesAGracefulRestart() throws Exception {
        int port;
        {
            Connection c = connect();
            c.declareQueue("keep", QueueOptions.durableQueue());
            for (int i = 0; i < 3; i++) {
                assertThat(c.sendAndWait("keep", bytes("m" + i), WAIT).fsynced()).isTrue();
            }
            QueueConsumer consumer = c.consume("keep", ConsumeOptions.defaults().withPrefetch(1), null);
            next(consumer).ack();
            Delivery unacked = next(consumer);
            assertThat(text(unacked)).isEqualTo("m1");
            c.flush();
            await(() -> info(c, "keep").acked() == 1, "the first ack");
            port = broker.port();
            c.close();
            broker.close();
        }
        broker = startBroker(port);
        Connection c = connect();
        QueueInfo q = info(c, "keep");
        assertThat(q.durable()).isTrue();
        assertThat(q.depth()).isEqualTo(2);
        QueueConsumer consumer = c.consume("keep", ConsumeOptions.defaults(), null);
        Delivery m1 = next(consumer);
        assertThat(text(m1)).isEqualTo("m1");
        assertThat(m1.deliveryCount()).isEqualTo(2);
        Delivery m2 = next(consumer);
        assertThat(text(m2)).isEqualTo("m2");
        assertThat(m2.deliveryCount()).isEqualTo(1);
        assertThat(consumer.next(SHORT)).as("m0 was acked before the restart").isNull();
        m1.ack();
        m2.ack();
    }

    @Test
    void aClosedConsumersUnackedDeliveriesGoToAnotherConsumerPromptly() {
        Connection setup = connect();
        setup.declareQueue("shared", QueueOptions.durableQueue()); // default ack timeout: 30 s
        Connection first = connect();
        QueueConsumer firstConsumer = first.consume("shared", ConsumeOptions.defaults(), null);
        for (int i = 0; i < 3; i++) {
            setup.sendAndWait("shared", bytes("m" + i), WAIT);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(text(next(firstConsumer))).isEqualTo("m" + i);
        }
        Connection second = connect();
        QueueConsumer secondConsumer = second.consume("shared", ConsumeOptions.defaults(), null);
        first.close();
        for (int i = 0; i < 3; i++) {
            Delivery d = next(secondConsumer);
            assertThat(text(d)).isEqualTo("m" + i);
            assertThat(d.redelivered()).isTrue();
            d.ack();
        }
    }

    @Test
    void consumersAreRecreatedAfterAReconnectAndUnconfirmedSendsFail() throws Exception {
        Connection setup = connect();
        setup.declareQueue("again", QueueOptions.durableQueue());
        setup.close();
        Connection c = Tern.connect(ConnectOptions.builder().host("127.0.0.1").port(broker.port())
                .reconnectWait(Duration.ofMillis(10), Duration.ofMillis(100)).build());
        closeables.add(c);
        QueueConsumer consumer = c.consume("again", ConsumeOptions.defaults(), null);
        c.sendAndWait("again", bytes("before"), WAIT);
        Delivery before = next(consumer);
        int port = broker.port();
        broker.close();
        broker = startBroker(port);
        await(() -> c.status() == tern.client.ConnectionStatus.CONNECTED, "reconnected");
        Confirm confirm = c.sendAndWait("again", bytes("after"), WAIT);
        assertThat(confirm.fsynced()).isTrue();
        Delivery redelivered = next(consumer);
        assertThat(text(redelivered)).isEqualTo("before");
        assertThat(redelivered.deliveryCount()).isEqualTo(2);
        assertThat(text(next(consumer))).isEqualTo("after");
        before.ack(); // dropped or stale: its delivery belonged to the old connection
        redelivered.ack();
        c.flush();
        await(() -> info(c, "again").acked() == 1 && info(c, "again").unacked() == 1, "one ack on the new broker");

        // A send without a connection fails at once; its caller resends.
        broker.close();
        await(() -> c.status() != tern.client.ConnectionStatus.CONNECTED, "disconnected");
        CompletableFuture<Confirm> lost = c.send("again", bytes("lost"));
        assertThatThrownBy(() -> lost.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                .hasCauseInstanceOf(tern.client.ConnectionClosedException.class);
        broker = startBroker(port);
    }

    @Test
    void cancellingAConsumerRequeuesItsDeliveries() {
        Connection c = connect();
        c.declareQueue("cancel", QueueOptions.transientQueue());
        c.sendAndWait("cancel", bytes("x"), WAIT);
        QueueConsumer first = c.consume("cancel", ConsumeOptions.defaults(), null);
        next(first);
        first.close();
        assertThat(first.next(SHORT)).isNull();
        Delivery again = next(c.consume("cancel", ConsumeOptions.defaults(), null));
        assertThat(again.deliveryCount()).isEqualTo(2);
        again.ack();
    }
}
