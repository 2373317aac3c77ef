package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ConnectionClosedException;
import tern.client.ConnectionEvent;
import tern.client.ConnectionListener;
import tern.client.ConnectionStatus;
import tern.client.Message;
import tern.client.NoRespondersException;
import tern.client.RequestTimeoutException;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.client.Tern;
import tern.client.TernException;
import tern.protocol.ErrorCode;
import tern.testkit.BrokerLogGuard;

/** The client against a real in-process broker on 127.0.0.1, port 0. */
@Timeout(60)
class ClientIT {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    private TernBroker broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startBroker() {
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0));
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
        Connection c = Tern.connect("127.0.0.1", broker.port());
        closeables.add(c);
        return c;
    }

    private Connection connect(ConnectOptions.Builder options) {
        Connection c = Tern.connect(options.host("127.0.0.1").port(broker.port()).build());
        closeables.add(c);
        return c;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /** Records listener events and errors. */
    static final class Events implements ConnectionListener {
        final List<ConnectionEvent> events = new CopyOnWriteArrayList<>();
        final List<TernException> errors = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(ConnectionEvent event, Connection connection) {
            events.add(event);
        }

        @Override
        public void onError(TernException error) {
            errors.add(error);
        }
    }

    @Test
    void helloWorld() {
        try (Connection c = Tern.connect("127.0.0.1", broker.port())) {
            Subscription greetings = c.subscribe("greetings.>");
            c.publish("greetings.world", bytes("hello"));
            Message m = greetings.next(Duration.ofSeconds(5));
            assertThat(m.payloadAsString()).isEqualTo("hello");
            assertThat(m.subject()).isEqualTo("greetings.world");
        }
    }

    @Test
    void handshakeRecordsServerInfo() {
        Connection c = connect();
        assertThat(c.status()).isEqualTo(ConnectionStatus.CONNECTED);
        assertThat(c.serverInfo().serverId()).isNotEmpty();
        assertThat(c.serverInfo().maxFrameBytes()).isEqualTo(broker.config().limits().maxFrameBytes());
        assertThat(c.serverInfo().maxSubjectBytes()).isEqualTo(broker.config().limits().maxSubjectBytes());
    }

    @Test
    void publishReachesSubscriberWithHeadersAndReplySubject() {
        Connection sub = connect();
        Connection pub = connect();
        Subscription s = sub.subscribe("orders.eu");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("trace", "abc");
        headers.put("content-type", "text/plain");
        pub.publish("orders.eu", "reply.here", headers, bytes("42"));
        pub.publish("orders.eu", bytes("43"));

        Message first = s.next(WAIT);
        assertThat(first.subject()).isEqualTo("orders.eu");
        assertThat(first.replyTo()).isEqualTo("reply.here");
        assertThat(first.headers()).containsExactlyEntriesOf(headers);
        assertThat(first.payload()).isEqualTo(bytes("42"));
        assertThat(first.sid()).isEqualTo(s.sid());
        Message second = s.next(WAIT);
        assertThat(second.replyTo()).isNull();
        assertThat(second.headers()).isEmpty();
        assertThat(second.payloadAsString()).isEqualTo("43");
        assertThat(s.next(Duration.ofMillis(50))).isNull();
    }

    @Test
    void wildcardSubscriptionsMatchTokens() {
        Connection c = connect();
        Subscription one = c.subscribe("orders.*");
        Subscription rest = c.subscribe("orders.>");
        c.publish("orders.eu", bytes("a"));
        c.publish("orders.eu.fr", bytes("b"));
        c.publish("other.eu", bytes("c"));
        c.flush(WAIT);

        assertThat(one.next(WAIT).subject()).isEqualTo("orders.eu");
        assertThat(one.next(Duration.ofMillis(50))).isNull();
        assertThat(rest.next(WAIT).subject()).isEqualTo("orders.eu");
        assertThat(rest.next(WAIT).subject()).isEqualTo("orders.eu.fr");
        assertThat(rest.next(Duration.ofMillis(50))).isNull();
    }

    @Test
    void pushHandlerRunsOnTheDispatchThread() {
        Connection c = connect();
        List<String> got = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        c.subscribe("push", m -> {
            got.add(m.payloadAsString());
            threads.add(Thread.currentThread().getName());
        });
        for (int i = 0; i < 100; i++) {
            c.publish("push", bytes(Integer.toString(i)));
        }
        await("100 messages", () -> got.size() == 100);
        for (int i = 0; i < 100; i++) {
            assertThat(got.get(i)).isEqualTo(Integer.toString(i));
        }
        assertThat(threads).allMatch(n -> n.startsWith("tern-dispatch-"));
    }

    @Test
    void queueGroupMembersShareMessagesAndPlainSubscribersGetAll() {
        Connection a = connect();
        Connection b = connect();
        Connection pub = connect();
        AtomicInteger inA = new AtomicInteger();
        AtomicInteger inB = new AtomicInteger();
        AtomicInteger plain = new AtomicInteger();
        a.subscribe("jobs", "workers", m -> inA.incrementAndGet());
        b.subscribe("jobs", "workers", m -> inB.incrementAndGet());
        b.subscribe("jobs", m -> plain.incrementAndGet());
        int count = 200;
        for (int i = 0; i < count; i++) {
            pub.publish("jobs", bytes("j" + i));
        }
        await("all jobs", () -> inA.get() + inB.get() == count && plain.get() == count);
        assertThat(inA.get()).isPositive();
        assertThat(inB.get()).isPositive();
        pub.flush(WAIT);
        a.flush(WAIT);
        b.flush(WAIT);
        assertThat(inA.get() + inB.get()).isEqualTo(count);
    }

    @Test
    void unsubscribeAfterNDeliversExactlyN() {
        Connection c = connect();
        Connection pub = connect();
        Subscription s = c.subscribe("counted");
        s.unsubscribe(3);
        for (int i = 0; i < 10; i++) {
            pub.publish("counted", bytes(Integer.toString(i)));
        }
        pub.flush(WAIT);
        c.flush(WAIT);
        for (int i = 0; i < 3; i++) {
            assertThat(s.next(WAIT).payloadAsString()).isEqualTo(Integer.toString(i));
        }
        assertThat(s.next(Duration.ofMillis(100))).isNull();
        assertThat(s.isActive()).isFalse();
    }

    @Test
    void unsubscribeStopsDelivery() {
        Connection c = connect();
        Subscription s = c.subscribe("gone");
        c.publish("gone", bytes("1"));
        assertThat(s.next(WAIT).payloadAsString()).isEqualTo("1");
        s.unsubscribe();
        c.publish("gone", bytes("2"));
        c.flush(WAIT);
        assertThat(s.isActive()).isFalse();
        assertThat(s.next(Duration.ofMillis(50))).isNull();
    }

    @Test
    void requestGetsReplyBlockingAndAsync() throws Exception {
        Connection responder = connect();
        Connection requester = connect();
        responder.subscribe("echo", m -> responder.publish(m.replyTo(), bytes("re:" + m.payloadAsString())));
        Message reply = requester.request("echo", bytes("ping"), WAIT);
        assertThat(reply.payloadAsString()).isEqualTo("re:ping");
        assertThat(reply.subject()).startsWith("_INBOX.");

        List<CompletableFuture<Message>> futures = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            futures.add(requester.requestAsync("echo", bytes("n" + i), WAIT));
        }
        for (int i = 0; i < 100; i++) {
            assertThat(futures.get(i).get(10, TimeUnit.SECONDS).payloadAsString()).isEqualTo("re:n" + i);
        }
    }

    @Test
    void requestWithoutRespondersFailsFast() {
        Connection c = connect();
        assertThatThrownBy(() -> c.request("nobody.home", bytes("?"), WAIT)).isInstanceOf(NoRespondersException.class);
        CompletableFuture<Message> f = c.requestAsync("nobody.home", bytes("?"), WAIT);
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(NoRespondersException.class);
        // The connection still works.
        c.flush(WAIT);
    }

    @Test
    void requestTimesOutWhenTheResponderIsSilent() {
        Connection c = connect();
        c.subscribe("silent", m -> { });
        long start = System.nanoTime();
        assertThatThrownBy(() -> c.request("silent", bytes("?"), Duration.ofMillis(200)))
                .isInstanceOf(RequestTimeoutException.class);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
        CompletableFuture<Message> f = c.requestAsync("silent", bytes("?"), Duration.ofMillis(100));
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RequestTimeoutException.class);
    }

    @Test
    void flushIsARoundTripAndFailsAfterClose() {
        Connection c = connect();
        for (int i = 0; i < 1000; i++) {
            c.publish("nowhere", bytes("x"));
        }
        c.flush(WAIT);
        c.flush();
        c.close();
        c.close(); // idempotent
        assertThat(c.status()).isEqualTo(ConnectionStatus.CLOSED);
        assertThatThrownBy(() -> c.flush(WAIT)).isInstanceOf(ConnectionClosedException.class);
        assertThatThrownBy(() -> c.publish("x", bytes("y"))).isInstanceOf(ConnectionClosedException.class);
    }

    @Test
    void drainDeliversWhatArrivedThenCloses() {
        Events events = new Events();
        Connection c = connect(ConnectOptions.builder().listener(events));
        Connection pub = connect();
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        c.subscribe("drained", m -> {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200)); // slower than the publisher
            got.add(m.payloadAsString());
        });
        int count = 500;
        for (int i = 0; i < count; i++) {
            pub.publish("drained", bytes(Integer.toString(i)));
        }
        pub.flush(WAIT);
        c.flush(WAIT); // every message is now at c (in its socket, ring or handler)
        c.drain(WAIT);
        assertThat(c.status()).isEqualTo(ConnectionStatus.CLOSED);
        assertThat(got).hasSize(count);
        assertThat(events.events).contains(ConnectionEvent.CLOSED);
    }

    @Test
    void closeFailsPendingRequests() {
        Connection c = connect();
        c.subscribe("slow", m -> { });
        CompletableFuture<Message> f = c.requestAsync("slow", bytes("?"), WAIT);
        c.flush(WAIT);
        c.close();
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class);
    }

    @Test
    void reconnectsAfterBrokerRestartOnTheSamePortAndResubscribes() throws Exception {
        int port = broker.port();
        Events events = new Events();
        Connection c = connect(ConnectOptions.builder().listener(events)
                .reconnectWait(Duration.ofMillis(10), Duration.ofMillis(200)));
        Subscription s = c.subscribe("survives");
        List<String> pushed = new CopyOnWriteArrayList<>();
        c.subscribe("survives.push", m -> pushed.add(m.payloadAsString()));
        Subscription counted = c.subscribe("counted");
        counted.unsubscribe(3);
        c.publish("counted", bytes("1"));
        assertThat(counted.next(WAIT).payloadAsString()).isEqualTo("1");

        broker.close();
        await("DISCONNECTED", () -> events.events.contains(ConnectionEvent.DISCONNECTED));
        // Published while disconnected: buffered and sent after the reconnect.
        c.publish("survives", bytes("buffered"));
        broker = TernBroker.start(BrokerConfig.defaults().withPort(port));
        await("RECONNECTED", () -> events.events.contains(ConnectionEvent.RECONNECTED));
        assertThat(c.status()).isEqualTo(ConnectionStatus.CONNECTED);
        assertThat(events.events).startsWith(ConnectionEvent.CONNECTED, ConnectionEvent.DISCONNECTED);

        assertThat(s.next(WAIT).payloadAsString()).isEqualTo("buffered");
        Connection pub = connect();
        pub.publish("survives", bytes("after"));
        pub.publish("survives.push", bytes("pushed"));
        for (int i = 2; i <= 5; i++) {
            pub.publish("counted", bytes(Integer.toString(i)));
        }
        assertThat(s.next(WAIT).payloadAsString()).isEqualTo("after");
        await("push after reconnect", () -> pushed.contains("pushed"));
        // Two of the three remain after the reconnect.
        assertThat(counted.next(WAIT).payloadAsString()).isEqualTo("2");
        assertThat(counted.next(WAIT).payloadAsString()).isEqualTo("3");
        assertThat(counted.next(Duration.ofMillis(100))).isNull();
        // Request/reply works through the re-created inbox.
        c.subscribe("echo", m -> c.publish(m.replyTo(), m.payload()));
        assertThat(pub.request("echo", bytes("hi"), WAIT).payloadAsString()).isEqualTo("hi");
        assertThat(c.request("echo", bytes("self"), WAIT).payloadAsString()).isEqualTo("self");
    }

    @Test
    void goAwayOnBrokerShutdownClosesAClientWithoutReconnect() {
        Events events = new Events();
        Connection c = connect(ConnectOptions.builder().listener(events).reconnect(false));
        Subscription s = c.subscribe("bye");
        c.publish("bye", bytes("last"));
        assertThat(s.next(WAIT).payloadAsString()).isEqualTo("last");
        broker.close();
        await("CLOSED", () -> c.status() == ConnectionStatus.CLOSED);
        await("CLOSED event", () -> events.events.contains(ConnectionEvent.CLOSED));
        assertThat(events.events).containsSubsequence(ConnectionEvent.CONNECTED, ConnectionEvent.DISCONNECTED,
                ConnectionEvent.CLOSED);
        assertThatThrownBy(() -> c.publish("bye", bytes("x"))).isInstanceOf(ConnectionClosedException.class);
    }

    @Test
    void serverRejectionIsATypedExceptionAndTheConnectionKeepsWorking() {
        Connection c = connect();
        // 40 tokens: valid for the client's format check, over the server's maxSubjectTokens (32).
        String tooDeep = String.join(".", Collections.nCopies(40, "t"));
        assertThatThrownBy(() -> c.subscribe(tooDeep))
                .isInstanceOfSatisfying(ServerException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_SUBJECT));
        // Bad bytes never leave the client.
        assertThatThrownBy(() -> c.publish("has space", bytes("x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.publish("wild.*", bytes("x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.subscribe("a..b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.subscribe("a", "bad.group")).isInstanceOf(IllegalArgumentException.class);

        Subscription s = c.subscribe("still.works");
        c.publish("still.works", bytes("yes"));
        assertThat(s.next(WAIT).payloadAsString()).isEqualTo("yes");
        assertThat(c.status()).isEqualTo(ConnectionStatus.CONNECTED);
    }

    @Test
    void largeMessagesUpToTheMaxFrameRoundTrip() {
        Connection c = connect();
        Subscription s = c.subscribe("big");
        int maxFrame = c.serverInfo().maxFrameBytes();
        // Body = 8-byte header + subject str (2 + 3) + payload.
        int maxPayload = maxFrame - 8 - 5;
        byte[] payload = new byte[maxPayload];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31);
        }
        c.publish("big", payload);
        c.publish("big", bytes("small after big"));
        assertThat(s.next(WAIT).payload()).isEqualTo(payload);
        assertThat(s.next(WAIT).payloadAsString()).isEqualTo("small after big");
        assertThatThrownBy(() -> c.publish("big", new byte[maxPayload + 1])).isInstanceOf(IllegalArgumentException.class);
        c.flush(WAIT);
    }

    @Test
    void concurrentPublishersOnOneConnectionDeliverEachMessageOnceInOrder() throws Exception {
        Connection pub = connect();
        Connection sub = connect();
        // Modest counts: the broker runs with paranoid leak detection here (a few thousand msgs/s).
        int threads = 4;
        int perThread = 2_000;
        Duration slow = Duration.ofSeconds(40);
        List<List<Integer>> got = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            got.add(Collections.synchronizedList(new ArrayList<>()));
        }
        AtomicInteger total = new AtomicInteger();
        Subscription s = sub.subscribe("load.*", m -> {
            int t = m.subject().charAt(5) - '0';
            got.get(t).add(Integer.parseInt(m.payloadAsString()));
            total.incrementAndGet();
        });
        List<Thread> publishers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String subject = "load." + t;
            Thread p = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    pub.publish(subject, bytes(Integer.toString(i)));
                }
            });
            publishers.add(p);
            p.start();
        }
        for (Thread p : publishers) {
            p.join();
        }
        pub.flush(slow);
        await("all messages", () -> total.get() >= threads * perThread);
        sub.flush(slow);
        assertThat(total.get()).isEqualTo(threads * perThread);
        assertThat(s.droppedCount()).isZero();
        for (int t = 0; t < threads; t++) {
            List<Integer> seq = got.get(t);
            assertThat(seq).hasSize(perThread);
            for (int i = 0; i < perThread; i++) {
                assertThat(seq.get(i)).isEqualTo(i);
            }
        }
    }
}
