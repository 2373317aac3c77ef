package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.cli.TernCli;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.Delivery;
import tern.client.QueueConsumer;
import tern.client.QueueInfo;
import tern.client.Tern;
import tern.testkit.BrokerLogGuard;

/**
 * tern queue declare|ls|purge|rm|redrive, tern send and tern consume, run in-process (picocli execute with
 * captured stdout and stderr) against a real broker on 127.0.0.1, port 0. A test also fails when that broker
 * logged an unexpected error.
 */
@Timeout(60)
class QueueCliIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final AtomicInteger NAMES = new AtomicInteger();

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static Path dataDir;
    static TernBroker broker;
    static String server;

    record Run(int exitCode, String out, String err) {
    }

    @BeforeAll
    static void startBroker() {
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dataDir));
        server = "127.0.0.1:" + broker.port();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    static Run tern(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = args[0];
        int i = 1;
        // --server goes after the (sub)command words, before the first option or positional
        int words = args[0].equals("queue") ? 2 : 1;
        for (int k = 1; k < words; k++) {
            all[i++] = args[k];
        }
        all[i++] = "--server";
        all[i++] = server;
        for (int k = words; k < args.length; k++) {
            all[i++] = args[k];
        }
        int code = TernCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(code, out.toString(), err.toString());
    }

    static String fresh(String prefix) {
        return prefix + "-" + NAMES.incrementAndGet();
    }

    @Test
    void declareListSendConsume() {
        String q = fresh("orders");
        Run d = tern("queue", "declare", q, "--ttl", "1h", "--ack-timeout", "30s", "--max-length", "1000",
                "--max-bytes", "10MB", "--overflow", "reject", "--bind", q + ".eu.*");
        assertThat(d.exitCode()).as(d.err()).isZero();
        assertThat(d.out()).contains("declared durable queue " + q);
        // same options again: fine
        assertThat(tern("queue", "declare", q, "--ttl", "1h", "--ack-timeout", "30s", "--max-length", "1000",
                "--max-bytes", "10MB", "--overflow", "reject", "--bind", q + ".eu.*").exitCode()).isZero();

        Run s = tern("send", q, "hello queue", "--count", "5", "--header", "k=v");
        assertThat(s.exitCode()).as(s.err()).isZero();
        assertThat(s.out().trim()).isEqualTo("5");

        Run ls = tern("queue", "ls");
        assertThat(ls.exitCode()).as(ls.err()).isZero();
        assertThat(ls.out()).contains("NAME").contains("DURABLE").contains("DEPTH").contains("UNACKED")
                .contains("CONSUMERS").contains("PUBLISHED").contains("DELIVERED").contains("ACKED");
        assertThat(row(ls.out(), q)).containsExactly(q, "yes", "5", "0", "0", "5", "0", "0");

        Run c = tern("consume", q, "--count", "5");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out().lines().toList()).containsExactly("hello queue", "hello queue", "hello queue",
                "hello queue", "hello queue");
        // consume acked each message before exiting
        assertThat(row(tern("queue", "ls").out(), q)).containsExactly(q, "yes", "0", "0", "0", "5", "5", "5");
    }

    @Test
    void declareWithDifferentOptionsFails() {
        String q = fresh("mismatch");
        assertThat(tern("queue", "declare", q, "--ttl", "1h").exitCode()).isZero();
        Run r = tern("queue", "declare", q, "--ttl", "2h");
        assertThat(r.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
        assertThat(r.err().lines().count()).isEqualTo(1);
        assertThat(r.err()).contains("declare " + q + " failed");
    }

    @Test
    void transientQueueAndNoAckConsume() {
        String q = fresh("scratch");
        assertThat(tern("queue", "declare", q, "--transient").exitCode()).isZero();
        assertThat(tern("send", q, "x", "--count", "3").exitCode()).isZero();
        Run c = tern("consume", q, "--count", "3", "--no-ack", "--prefetch", "2");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out().lines().toList()).containsExactly("x", "x", "x");
        assertThat(row(tern("queue", "ls").out(), q)).startsWith(q, "no", "0", "0");
    }

    @Test
    void purgeAndRemove() {
        String q = fresh("purge");
        assertThat(tern("queue", "declare", q).exitCode()).isZero();
        assertThat(tern("send", q, "p", "--count", "3").exitCode()).isZero();
        Run p = tern("queue", "purge", q);
        assertThat(p.exitCode()).as(p.err()).isZero();
        assertThat(p.out()).contains("purged 3 messages from " + q);
        Run rm = tern("queue", "rm", q);
        assertThat(rm.exitCode()).as(rm.err()).isZero();
        assertThat(tern("queue", "ls").out()).doesNotContain(q);
        Run again = tern("queue", "rm", q);
        assertThat(again.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
        assertThat(again.err().lines().count()).isEqualTo(1);
    }

    @Test
    void redriveMovesDeadLettersBack() throws Exception {
        String dlq = fresh("dlq");
        String q = fresh("work");
        assertThat(tern("queue", "declare", dlq).exitCode()).isZero();
        assertThat(tern("queue", "declare", q, "--max-deliveries", "3", "--dead-letter", dlq).exitCode()).isZero();
        assertThat(tern("send", q, "poison", "--count", "2").exitCode()).isZero();
        try (Connection c = Tern.connect("127.0.0.1", broker.port());
             QueueConsumer consumer = c.consume(q, ConsumeOptions.defaults(), null)) {
            for (int i = 0; i < 2; i++) {
                Delivery d = consumer.next(WAIT);
                assertThat(d).isNotNull();
                d.reject();
            }
            c.flush(WAIT);
        }
        awaitDepth(dlq, 2);
        Run r = tern("queue", "redrive", dlq);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("redrove 2 messages");
        awaitDepth(q, 2);
        Run c = tern("consume", q, "--count", "2");
        assertThat(c.out().lines().toList()).containsExactly("poison", "poison");
    }

    @Test
    void bindAndUnbindAnExistingQueue() throws Exception {
        String q = fresh("tap");
        String subject = q + ".events.*";
        assertThat(tern("queue", "declare", q).exitCode()).isZero();
        Run b = tern("queue", "bind", q, subject);
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.out().trim()).isEqualTo("bound queue " + q + " to " + subject);
        Run again = tern("queue", "bind", q, subject);
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out().trim()).isEqualTo("queue " + q + " was already bound to " + subject);

        assertThat(tern("pub", q + ".events.created", "captured").exitCode()).isZero();
        awaitDepth(q, 1);
        Run c = tern("consume", q, "--count", "1");
        assertThat(c.out().lines().toList()).containsExactly("captured");

        Run u = tern("queue", "unbind", q, subject);
        assertThat(u.exitCode()).as(u.err()).isZero();
        assertThat(u.out().trim()).isEqualTo("unbound queue " + q + " from " + subject);
        Run none = tern("queue", "unbind", q, subject);
        assertThat(none.exitCode()).as(none.err()).isZero();
        assertThat(none.out().trim()).isEqualTo("queue " + q + " was not bound to " + subject);
        assertThat(tern("pub", q + ".events.created", "not captured").exitCode()).isZero();
        try (Connection conn = Tern.connect("127.0.0.1", broker.port())) {
            conn.flush(WAIT);
            QueueInfo info = conn.listQueues().stream().filter(i -> i.name().equals(q)).findFirst().orElseThrow();
            assertThat(info.options().bindings()).isEmpty();
            assertThat(info.published()).isEqualTo(1);
            assertThat(info.depth()).isZero();
        }

        Run missing = tern("queue", "bind", fresh("nosuch"), subject);
        assertThat(missing.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
        assertThat(missing.err().lines().count()).isEqualTo(1);
        assertThat(missing.err()).contains("failed");
        Run badPattern = tern("queue", "unbind", q, "a..b");
        assertThat(badPattern.exitCode()).isEqualTo(TernCli.EXIT_USAGE);
    }

    @Test
    void sendToMissingQueueFailsWithOneLine() {
        Run r = tern("send", fresh("nosuch"), "x");
        assertThat(r.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
        assertThat(r.err().lines().count()).isEqualTo(1);
        assertThat(r.err()).contains("failed after 0 of 1 confirmed");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void unreachableBrokerFailsWithOneLine() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        for (List<String> cmd : List.of(List.of("queue", "ls"), List.of("send", "q", "x"), List.of("consume", "q"))) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            String[] args = cmd.toArray(new String[0]);
            String[] all = java.util.Arrays.copyOf(args, args.length + 2);
            all[args.length] = "--server";
            all[args.length + 1] = "127.0.0.1:" + closedPort;
            int code = TernCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), all);
            assertThat(code).as("%s: %s", cmd, err).isEqualTo(TernCli.EXIT_FAILED);
            assertThat(err.toString()).contains("cannot connect to 127.0.0.1:" + closedPort);
        }
    }

    private static void awaitDepth(String queue, long depth) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        try (Connection c = Tern.connect("127.0.0.1", broker.port())) {
            while (true) {
                QueueInfo info = c.listQueues().stream().filter(i -> i.name().equals(queue)).findFirst().orElseThrow();
                if (info.depth() == depth) {
                    return;
                }
                assertThat(System.nanoTime()).as("%s depth %d, want %d", queue, info.depth(), depth)
                        .isLessThan(deadline);
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
            }
        }
    }

    /** The ls row of a queue, split on blanks. */
    @Test
    void lsWithRatesShowsMessagesPerSecond() throws Exception {
        String busy = fresh("busy");
        String idle = fresh("idle");
        assertThat(tern("queue", "declare", busy, "--transient").exitCode()).isZero();
        assertThat(tern("queue", "declare", idle, "--transient").exitCode()).isZero();
        try (Connection producer = Tern.connect("127.0.0.1", broker.port())) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread sender = new Thread(() -> {
                while (!stop.get()) {
                    producer.sendAndWait(busy, "m".getBytes(StandardCharsets.UTF_8), WAIT);
                }
            }, "rates-sender");
            sender.start();
            Run ls;
            try {
                ls = tern("queue", "ls", "--rates", "300ms");
            } finally {
                stop.set(true);
                sender.join(WAIT.toMillis());
            }
            assertThat(ls.exitCode()).as(ls.err()).isZero();
            assertThat(ls.out()).contains("PUB/S").contains("DELIVER/S").contains("ACK/S");
            List<String> b = row(ls.out(), busy);
            assertThat(Long.parseLong(b.get(8))).as("PUB/S of a queue sent to throughout: " + ls.out()).isPositive();
            assertThat(row(ls.out(), idle).subList(8, 11)).containsExactly("0", "0", "0");
        }
    }

    private static List<String> row(String table, String queue) {
        return table.lines().filter(l -> l.startsWith(queue + " ")).findFirst()
                .map(l -> List.of(l.trim().split("\\s+"))).orElseThrow(() -> new AssertionError(queue + " not in\n"
                        + table));
    }
}
