package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.broker.guard.AddressLimits;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ConnectionEvent;
import tern.client.ConnectionListener;
import tern.client.Tern;
import tern.client.TernException;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.testkit.BrokerLogGuard;

/**
 * Thousands of connections opening and closing, half of them bad (garbage, a wrong preface, an
 * oversize frame), from one address, while well-behaved clients on another address keep working;
 * the per-address limits answer with an explicit ERROR 204; descriptors and heap return to baseline.
 * Loopback only: 127.0.0.2.. are other addresses of the loopback interface.
 */
@Timeout(180)
class ConnectionStormIT {
    static final int STORM_CONNECTIONS = 2_000;
    static final int STORM_THREADS = 8;
    static final int MAX_PER_ADDRESS = 64;
    static final Duration ANSWER = Duration.ofSeconds(5);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static Path data;

    /** A socket from a chosen loopback address. */
    static Socket open(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return s;
    }

    /** The next frame from the socket, or null when the server closed it first. Bodies up to 64 KiB. */
    static Frame readFrame(Socket s, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        DataInputStream in = new DataInputStream(s.getInputStream());
        try {
            int body = in.readInt();
            if (body < Frame.HEADER_BYTES || body > 64 << 10) {
                throw new IOException("frame body " + body);
            }
            byte[] frame = new byte[4 + body];
            ByteBuffer.wrap(frame).putInt(body);
            in.readFully(frame, 4, body);
            return Frames.decode(ByteBuffer.wrap(frame));
        } catch (EOFException e) {
            return null;
        } catch (SocketTimeoutException e) {
            throw new IOException("no frame within " + timeout, e);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return null;
            }
            throw e;
        }
    }

    static int errorCode(Frame f) {
        return f instanceof Frame.Error e ? e.code() : -1;
    }

    private static ConnectOptions.Builder goodClient(int port, List<String> problems) {
        return ConnectOptions.builder().port(port).listener(new ConnectionListener() {
            @Override
            public void onEvent(ConnectionEvent event, Connection connection) {
                if (event != ConnectionEvent.CONNECTED && event != ConnectionEvent.CLOSED) {
                    problems.add("event " + event);
                }
            }

            @Override
            public void onError(TernException error) {
                problems.add("error " + error.getMessage());
            }
        });
    }

    @Test
    void stormOfGoodAndBadConnectionsLeavesGoodClientsAloneAndReturnsToBaseline() throws Exception {
        long seed = Long.getLong("tern.storm.seed", System.nanoTime());
        System.out.println("ConnectionStormIT seed " + seed + " (rerun with -Dtern.storm.seed=" + seed + ")");
        BrokerConfig config = BrokerConfig.defaults().withPort(0).withDataDir(data)
                .withLimits(Limits.DEFAULT.withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(90)))
                .withAddressLimits(new AddressLimits(MAX_PER_ADDRESS, 100_000));
        List<String> problems = new CopyOnWriteArrayList<>();
        try (TernBroker broker = TernBroker.start(config);
             Connection responder = Tern.connect(goodClient(broker.port(), problems).build());
             Connection requester = Tern.connect(goodClient(broker.port(), problems).build())) {
            HostileTestSupport.echo(responder, "svc.echo");
            HostileTestSupport.p99Micros(requester, "svc.echo", 200);
            // Warm the storm path once so lazily loaded classes and pools are in the baseline.
            runStorm(broker.port(), 200, seed);
            assertThat(HostileTestSupport.poll(Duration.ofSeconds(10), () -> broker.stats().connections() == 2)).isTrue();
            int baseFds = HostileTestSupport.openFileDescriptors();
            long baseHeap = HostileTestSupport.heapBytes();

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger requests = new AtomicInteger();
            List<Throwable> requestFailures = new CopyOnWriteArrayList<>();
            Thread good = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        HostileTestSupport.p99Micros(requester, "svc.echo", 10);
                        requests.addAndGet(10);
                    } catch (Throwable t) {
                        requestFailures.add(t);
                        return;
                    }
                }
            }, "storm-good-client");
            good.start();
            long start = System.nanoTime();
            Map<String, Integer> outcomes = runStorm(broker.port(), STORM_CONNECTIONS, seed);
            long stormMillis = (System.nanoTime() - start) / 1_000_000;

            // The per-address connection limit: the 65th open connection from one address is refused.
            List<Socket> held = new ArrayList<>();
            Frame refusal;
            try {
                for (int i = 0; i < MAX_PER_ADDRESS; i++) {
                    Socket s = open("127.0.0.3", broker.port());
                    held.add(s);
                    s.getOutputStream().write(HostileTestSupport.prefaceAndHello());
                    assertThat(readFrame(s, ANSWER)).isInstanceOf(Frame.Welcome.class);
                }
                try (Socket extra = open("127.0.0.3", broker.port())) {
                    refusal = readFrame(extra, ANSWER);
                    assertThat(readFrame(extra, ANSWER)).as("closed after the refusal").isNull();
                }
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            assertThat(refusal).isInstanceOfSatisfying(Frame.Error.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_CONNECTIONS.code());
                assertThat(e.closing()).isTrue();
                assertThat(e.text()).contains("max " + MAX_PER_ADDRESS + " connections per address");
            });
            // Slots come back when the connections close.
            assertThat(HostileTestSupport.poll(Duration.ofSeconds(10), () -> broker.stats().connections() == 2)).isTrue();
            try (Socket again = open("127.0.0.3", broker.port())) {
                again.getOutputStream().write(HostileTestSupport.prefaceAndHello());
                assertThat(readFrame(again, ANSWER)).isInstanceOf(Frame.Welcome.class);
            }

            stop.set(true);
            good.join(30_000);
            assertThat(HostileTestSupport.poll(Duration.ofSeconds(10), () -> broker.stats().connections() == 2)).isTrue();
            boolean fdsBack = HostileTestSupport.poll(Duration.ofSeconds(10), () -> {
                try {
                    return HostileTestSupport.openFileDescriptors() <= baseFds + 4;
                } catch (IOException e) {
                    return false;
                }
            });
            int fds = HostileTestSupport.openFileDescriptors();
            long heap = HostileTestSupport.heapBytes();
            System.out.printf("ConnectionStormIT: %d connections from 127.0.0.2 in %d ms, outcomes %s; good client made"
                            + " %d requests, problems %s; fds %d -> %d; heap %d -> %d bytes; refusal: %s%n",
                    STORM_CONNECTIONS, stormMillis, outcomes, requests.get(), problems, baseFds, fds, baseHeap, heap,
                    refusal);
            assertThat(requestFailures).isEmpty();
            assertThat(problems).as("errors or reconnects seen by the good clients").isEmpty();
            assertThat(requests.get()).isPositive();
            assertThat(outcomes.getOrDefault("unexpected", 0)).isZero();
            assertThat(fdsBack).as("file descriptors back to baseline %d (now %d)", baseFds, fds).isTrue();
            assertThat(heap - baseHeap).isLessThan(8L << 20);
        }
    }

    /** Opens count connections from 127.0.0.2 on several threads; returns how each kind ended. */
    private static Map<String, Integer> runStorm(int port, int count, long seed) throws Exception {
        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(STORM_THREADS);
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < STORM_THREADS; t++) {
            futures.add(pool.submit(() -> {
                Random random = new Random(seed + Thread.currentThread().getId());
                int i;
                while ((i = next.getAndIncrement()) < count) {
                    String outcome = oneConnection(port, i, random);
                    outcomes.merge(outcome, 1, Integer::sum);
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        return new java.util.TreeMap<>(outcomes);
    }

    private static String oneConnection(int port, int i, Random random) throws IOException {
        int kind = i % 4;
        boolean readAnswer = kind == 0 || (i / 4) % 2 == 0;
        byte[] send;
        int expected;
        String name;
        switch (kind) {
            case 0 -> {
                send = HostileTestSupport.prefaceAndHello();
                expected = 0;
                name = "good";
            }
            case 1 -> {
                send = new byte[1 + random.nextInt(256)];
                random.nextBytes(send);
                send[0] = (byte) ('a' + random.nextInt(26)); // not 'T' (the preface), not 0x16 (TLS)
                expected = ErrorCode.BAD_PREFACE.code();
                name = "garbage";
            }
            case 2 -> {
                send = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                expected = ErrorCode.BAD_PREFACE.code();
                name = "http";
            }
            default -> {
                send = ByteBuffer.allocate(Frame.PREFACE.length + 4).put(Frame.PREFACE).putInt(Integer.MAX_VALUE).array();
                expected = ErrorCode.BAD_FRAME_LENGTH.code();
                name = "oversize";
            }
        }
        try (Socket s = open("127.0.0.2", port)) {
            if (!readAnswer) {
                s.setSoLinger(true, 0); // leave with a reset, without reading the answer
            }
            s.getOutputStream().write(send);
            if (!readAnswer) {
                return name + "-abandoned";
            }
            Frame f = readFrame(s, ANSWER);
            if (errorCode(f) == ErrorCode.TOO_MANY_CONNECTIONS.code()) {
                return "refused-by-address-limit";
            }
            if (kind == 0) {
                return f instanceof Frame.Welcome ? name : "unexpected";
            }
            return errorCode(f) == expected && readFrame(s, ANSWER) == null ? name + "-refused" : "unexpected";
        }
    }

    @Test
    void connectionRateLimitAnswersWithAnExplicitError() throws Exception {
        int rate = 20;
        BrokerConfig config = BrokerConfig.defaults().withPort(0).withDataDir(data)
                .withAddressLimits(new AddressLimits(rate, rate));
        List<String> problems = new CopyOnWriteArrayList<>();
        try (TernBroker broker = TernBroker.start(config);
             Connection responder = Tern.connect(goodClient(broker.port(), problems).build());
             Connection requester = Tern.connect(goodClient(broker.port(), problems).build())) {
            HostileTestSupport.echo(responder, "svc.echo");
            LongAdder welcomed = new LongAdder();
            LongAdder refusedByRate = new LongAdder();
            List<String> other = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                try (Socket s = open("127.0.0.4", broker.port())) {
                    s.getOutputStream().write(HostileTestSupport.prefaceAndHello());
                    Frame f = readFrame(s, ANSWER);
                    if (f instanceof Frame.Welcome) {
                        welcomed.increment();
                    } else if (f instanceof Frame.Error e && e.code() == ErrorCode.TOO_MANY_CONNECTIONS.code()
                            && e.text().contains("per second")) {
                        refusedByRate.increment();
                    } else {
                        other.add(String.valueOf(f));
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long p99 = HostileTestSupport.p99Micros(requester, "svc.echo", 100);
            System.out.printf("ConnectionStormIT rate limit %d/s: 100 connections in %.3f s: %d welcomed, %d refused"
                            + " (per second), other %s; good client p99 %d us%n",
                    rate, seconds, welcomed.sum(), refusedByRate.sum(), other, p99);
            assertThat(welcomed.sum()).isGreaterThanOrEqualTo(rate)
                    .isLessThanOrEqualTo(rate + (long) Math.ceil(rate * seconds) + 1);
            assertThat(refusedByRate.sum() + welcomed.sum()).isEqualTo(100);
            assertThat(problems).isEmpty();
        }
    }
}
