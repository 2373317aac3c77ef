package tern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.broker.guard.AddressLimits;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Tern;
import tern.protocol.Frame;
import tern.protocol.Limits;
import tern.testkit.BrokerLogGuard;

/**
 * 2,000 connections that never finish the handshake (silent, trickling the preface, trickling a
 * HELLO, or announcing a frame and trickling its body) are each closed at the handshake timeout,
 * cost bounded broker memory, and do not stop a well-behaved client's request/reply.
 */
@Timeout(180)
class SlowlorisIT {
    static final int CONNECTIONS = 2_000;
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);
    static final Duration TOLERANCE = Duration.ofMillis(500);
    static final int BATCH = 250;
    static final long MAX_BYTES_PER_CONNECTION = 16 << 10;
    static final int SAMPLES = 5;
    static final int REQUESTS_PER_SAMPLE = 100;
    /** Each trickling attacker sends one byte this often (2,000 of them: 4,000 reads a second). */
    static final long TRICKLE_NANOS = 500_000_000L;
    /** Most scheduling lag of a sleeping thread under which the timing checks are meaningful. */
    static final Duration MAX_LAG = Duration.ofMillis(200);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static java.nio.file.Path data;

    /** One attacking socket: what it sends and when it was accepted and closed. */
    static final class Attacker {
        final SocketChannel channel;
        final byte[] script;
        final long openedNanos;
        int sent;
        long closedNanos;

        Attacker(SocketChannel channel, byte[] script, long openedNanos) {
            this.channel = channel;
            this.script = script;
            this.openedNanos = openedNanos;
        }
    }

    @Test
    void silentAndTricklingConnectionsAreClosedAtTheHandshakeTimeout() throws Exception {
        Limits limits = Limits.DEFAULT.withTimeouts(HANDSHAKE_TIMEOUT, Duration.ofSeconds(30), Duration.ofSeconds(90));
        BrokerConfig config = BrokerConfig.defaults().withPort(0).withDataDir(data).withLimits(limits)
                // all attackers come from 127.0.0.1: lift the per-address limits for this test
                .withAddressLimits(new AddressLimits(100_000, 100_000));
        // Paranoid leak detection records a stack trace on every buffer access, which slows the event
        // loop tenfold and would be measured as lateness here. SIMPLE still samples for leaks.
        ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        try (TernBroker broker = TernBroker.start(config);
             Connection responder = Tern.connect(ConnectOptions.builder().port(broker.port()).build());
             Connection requester = Tern.connect(ConnectOptions.builder().port(broker.port()).build())) {
            HostileTestSupport.echo(responder, "svc.echo");
            HostileTestSupport.p99Micros(requester, "svc.echo", REQUESTS_PER_SAMPLE); // warm-up
            long[] quiet = new long[SAMPLES];
            for (int i = 0; i < SAMPLES; i++) {
                quiet[i] = HostileTestSupport.p99Micros(requester, "svc.echo", REQUESTS_PER_SAMPLE);
            }
            int baseConnections = broker.stats().connections();
            long baseMemory = HostileTestSupport.usedMemoryBytes();
            long acceptedBase = broker.stats().connectionsAccepted();

            byte[] hello = HostileTestSupport.prefaceAndHello();
            byte[] announced = new byte[Frame.PREFACE.length + 4 + 64];
            System.arraycopy(Frame.PREFACE, 0, announced, 0, Frame.PREFACE.length);
            ByteBuffer.wrap(announced).putInt(Frame.PREFACE.length, limits.maxPreAuthFrameBytes()); // body never completes
            List<byte[]> scripts = List.of(new byte[0], Frame.PREFACE, hello, announced);

            // The good client samples its p99 from before the first attacker opens until the last is closed.
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> probeFailure = new AtomicReference<>();
            List<Long> underAttack = new ArrayList<>();
            // Our own System.gc() for the memory reading stops the whole JVM: samples overlapping it are dropped.
            java.util.concurrent.atomic.AtomicInteger gcEpoch = new java.util.concurrent.atomic.AtomicInteger();
            Thread probe = new Thread(() -> {
                try {
                    while (!done.get()) {
                        int epoch = gcEpoch.get();
                        long p = HostileTestSupport.p99Micros(requester, "svc.echo", REQUESTS_PER_SAMPLE);
                        if (epoch % 2 == 0 && gcEpoch.get() == epoch) {
                            synchronized (underAttack) {
                                underAttack.add(p);
                            }
                        }
                    }
                } catch (Throwable t) {
                    probeFailure.set(t);
                }
            }, "slowloris-probe");

            // One thread owns the selector: it sees each close as it happens and trickles the scripts.
            List<Attacker> attackers = new ArrayList<>(CONNECTIONS);
            java.util.concurrent.ConcurrentLinkedQueue<Attacker> fresh = new java.util.concurrent.ConcurrentLinkedQueue<>();
            Selector selector = Selector.open();
            java.util.concurrent.atomic.AtomicInteger closedCount = new java.util.concurrent.atomic.AtomicInteger();
            Thread watcher = new Thread(() -> {
                List<Attacker> mine = new ArrayList<>();
                ByteBuffer sink = ByteBuffer.allocate(4096);
                long lastTrickle = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                try {
                    while (closedCount.get() < CONNECTIONS && System.nanoTime() < deadline) {
                        for (Attacker a; (a = fresh.poll()) != null; ) {
                            a.channel.register(selector, SelectionKey.OP_READ, a);
                            mine.add(a);
                        }
                        selector.select(20);
                        long now = System.nanoTime();
                        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                            SelectionKey key = it.next();
                            it.remove();
                            Attacker a = (Attacker) key.attachment();
                            int n;
                            try {
                                sink.clear();
                                n = a.channel.read(sink);
                            } catch (IOException e) {
                                n = -1;
                            }
                            if (n < 0) {
                                a.closedNanos = now;
                                key.cancel();
                                a.channel.close();
                                closedCount.incrementAndGet();
                            }
                        }
                        if (now - lastTrickle > TRICKLE_NANOS) {
                            lastTrickle = now;
                            for (Attacker a : mine) {
                                if (a.closedNanos == 0 && a.sent < a.script.length && a.channel.isOpen()) {
                                    try {
                                        a.sent += a.channel.write(ByteBuffer.wrap(a.script, a.sent, 1));
                                    } catch (IOException e) {
                                        // closed by the broker: the selector reports it
                                    }
                                }
                            }
                        }
                    }
                } catch (IOException e) {
                    probeFailure.compareAndSet(null, e);
                }
            }, "slowloris-watcher");
            // How late this JVM runs a thread that asks to wake every 10 ms: on a machine shared with other
            // work, the broker's timers are late by as much, through no fault of the broker.
            java.util.concurrent.atomic.AtomicLong maxLagNanos = new java.util.concurrent.atomic.AtomicLong();
            Thread lag = new Thread(() -> {
                while (!done.get()) {
                    long before = System.nanoTime();
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
                    long late = System.nanoTime() - before - 10_000_000L;
                    maxLagNanos.accumulateAndGet(late, Math::max);
                }
            }, "slowloris-lag");
            lag.setDaemon(true);
            watcher.start();
            probe.start();
            lag.start();

            long attackStart = System.nanoTime();
            for (int i = 0; i < CONNECTIONS; i++) {
                SocketChannel ch = SocketChannel.open();
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                ch.connect(new InetSocketAddress("127.0.0.1", broker.port()));
                ch.configureBlocking(false);
                Attacker a = new Attacker(ch, scripts.get(i % scripts.size()), System.nanoTime());
                attackers.add(a);
                fresh.add(a);
                selector.wakeup();
                if ((i + 1) % BATCH == 0) {
                    // keep the accept queue short, so the broker's clock starts when ours does
                    long expected = acceptedBase + i + 1;
                    HostileTestSupport.poll(Duration.ofSeconds(5), () -> broker.stats().connectionsAccepted() >= expected);
                }
            }
            long openedIn = (System.nanoTime() - attackStart) / 1_000_000;
            int openBefore = broker.stats().connections() - baseConnections;
            gcEpoch.incrementAndGet();
            long attackMemory = HostileTestSupport.usedMemoryBytes();
            gcEpoch.incrementAndGet();
            int openNow = Math.min(openBefore, broker.stats().connections() - baseConnections);
            long perConnection = (attackMemory - baseMemory) / Math.max(1, openNow);

            watcher.join(90_000);
            done.set(true);
            probe.join(60_000);
            selector.close();
            if (probeFailure.get() != null) {
                throw new AssertionError("the good client failed during the attack", probeFailure.get());
            }
            long[] attack = underAttack.stream().mapToLong(Long::longValue).toArray();

            long[] lifetimes = attackers.stream().filter(a -> a.closedNanos != 0)
                    .mapToLong(a -> (a.closedNanos - a.openedNanos) / 1_000_000).sorted().toArray();
            long early = Arrays.stream(lifetimes).filter(ms -> ms < HANDSHAKE_TIMEOUT.minus(TOLERANCE).toMillis()).count();
            long lagMillis = maxLagNanos.get() / 1_000_000;
            long lateBound = HANDSHAKE_TIMEOUT.plus(TOLERANCE).toMillis();
            long late = Arrays.stream(lifetimes).filter(ms -> ms > lateBound).count();
            long[] quietSorted = quiet.clone();
            Arrays.sort(quietSorted);
            System.out.printf("SlowlorisIT: %d connections opened in %d ms; %d closed; lifetime min %d ms, median %d ms,"
                            + " max %d ms (timeout %d ms +/- %d, + %d ms measured scheduling lag of this JVM); %d early, %d late;"
                            + " within +/- %d ms: %d%n",
                    CONNECTIONS, openedIn, lifetimes.length, lifetimes[0], lifetimes[lifetimes.length / 2],
                    lifetimes[lifetimes.length - 1], HANDSHAKE_TIMEOUT.toMillis(), TOLERANCE.toMillis(), lagMillis,
                    early, late, TOLERANCE.toMillis(), Arrays.stream(lifetimes)
                            .filter(ms -> ms <= HANDSHAKE_TIMEOUT.plus(TOLERANCE).toMillis()).count());
            System.out.printf("SlowlorisIT: memory %d bytes for %d open attackers = %d bytes per connection (bound %d;"
                            + " heap after GC + Netty pooled direct, attackers' own sockets included)%n",
                    attackMemory - baseMemory, openNow, perConnection, MAX_BYTES_PER_CONNECTION);
            System.out.printf("SlowlorisIT: request/reply p99 without attack %s us (median %d), during attack %s us"
                            + " (median %d)%n", Arrays.toString(quiet), HostileTestSupport.median(quiet),
                    Arrays.toString(attack), attack.length == 0 ? -1 : HostileTestSupport.median(attack));

            assertThat(lifetimes).hasSize(CONNECTIONS);
            assertThat(early).as("closed before the handshake timeout - 0.5 s").isZero();
            assertThat(perConnection).isLessThanOrEqualTo(MAX_BYTES_PER_CONNECTION);
            assertThat(attack.length).as("request/reply samples during the attack").isGreaterThanOrEqualTo(3);
            assertThat(HostileTestSupport.poll(Duration.ofSeconds(5),
                    () -> broker.stats().connections() == baseConnections)).isTrue();
            // Timing is only measurable on a machine that runs our threads on time: when another load
            // delays a plain sleeping thread by more than MAX_LAG, the timing checks are not made (the
            // test is aborted as not measured, not passed).
            assumeThat(lagMillis).as("NOT MEASURED: this JVM's threads ran up to %d ms late (machine busy)", lagMillis)
                    .isLessThanOrEqualTo(MAX_LAG.toMillis());
            assertThat(late).as("closed after the handshake timeout + 0.5 s").isZero();
            // The bound: p99 under attack at most twice the quiet p99 (medians of samples); below
            // 1 ms the scheduler's noise dominates, so the bound is never tighter than 2 ms.
            assertThat(HostileTestSupport.median(attack))
                    .isLessThanOrEqualTo(Math.max(2 * HostileTestSupport.median(quiet), 2_000));
        } finally {
            ResourceLeakDetector.setLevel(leakLevel);
        }
    }
}
