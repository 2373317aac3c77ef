package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.cli.TernCli;
import tern.client.Connection;
import tern.client.Message;
import tern.client.Subscription;
import tern.client.Tern;
import tern.testkit.BrokerLogGuard;

/**
 * The tern commands run in-process (picocli execute with captured stdout and stderr) against a real
 * broker on 127.0.0.1, port 0. A test also fails when that broker logged an unexpected error.
 */
@Timeout(60)
class CliIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long POLL_NANOS = 2_000_000;

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static Path dataDir;
    static TernBroker broker;
    static String server;

    private ExecutorService background;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dataDir));
        server = "127.0.0.1:" + broker.port();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @BeforeEach
    void startBackground() {
        background = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopBackground() throws InterruptedException {
        background.shutdownNow();
        assertThat(background.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** One command's captured output; the writers are thread-safe, so a running command can be watched. */
    static final class Run {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        int exitCode = -1;

        String out() {
            return out.toString();
        }

        String err() {
            return err.toString();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out() + "--- stderr\n" + err();
        }
    }

    static Run tern(String... args) {
        Run r = new Run();
        r.exitCode = TernCli.execute(new PrintWriter(r.out, true), new PrintWriter(r.err, true), args);
        return r;
    }

    /** Starts a long-running command and returns once it printed its ready line on stderr. */
    private Future<Run> ternInBackground(String ready, String... args) throws Exception {
        Run r = new Run();
        Future<Run> f = background.submit(() -> {
            r.exitCode = TernCli.execute(new PrintWriter(r.out, true), new PrintWriter(r.err, true), args);
            return r;
        });
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!r.err().contains(ready)) {
            if (f.isDone()) {
                throw new AssertionError("command ended before it was ready: " + f.get());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not ready within " + WAIT + ": " + r);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
        return f;
    }

    private static Run result(Future<Run> f) throws Exception {
        return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void subWithCountReceivesWhatPubSends() throws Exception {
        Future<Run> sub = ternInBackground("subscribed to", "sub", "cli.greetings", "--count", "3", "--server", server);

        Run pub = tern("pub", "cli.greetings", "hello tern", "--count", "3", "--server", server);
        assertThat(pub.exitCode).as(pub.toString()).isZero();
        assertThat(pub.err()).contains("published 3 messages");
        assertThat(pub.out()).isEmpty();

        Run received = result(sub);
        assertThat(received.exitCode).as(received.toString()).isZero();
        assertThat(received.out().lines()).containsExactly("hello tern", "hello tern", "hello tern");
    }

    @Test
    void queueGroupMembersShareTheMessages() throws Exception {
        Future<Run> a = ternInBackground("subscribed to", "sub", "cli.work", "--queue", "workers", "--count", "2",
                "--server", server);
        Future<Run> b = ternInBackground("subscribed to", "sub", "cli.work", "--queue", "workers", "--count", "2",
                "--server", server);

        Run pub = tern("pub", "cli.work", "job", "--count", "4", "--server", server);
        assertThat(pub.exitCode).as(pub.toString()).isZero();

        Run ra = result(a);
        Run rb = result(b);
        assertThat(ra.exitCode).as(ra.toString()).isZero();
        assertThat(rb.exitCode).as(rb.toString()).isZero();
        assertThat(ra.out().lines()).containsExactly("job", "job");
        assertThat(rb.out().lines()).containsExactly("job", "job");
    }

    @Test
    void pubSendsHeadersAndReplySubject() throws Exception {
        try (Connection c = Tern.connect("127.0.0.1", broker.port())) {
            Subscription s = c.subscribe("cli.headers");
            c.flush(WAIT);
            Run pub = tern("pub", "cli.headers", "body", "--header", "trace=abc", "--header", "k=v",
                    "--reply", "cli.answers", "--server", server);
            assertThat(pub.exitCode).as(pub.toString()).isZero();

            Message m = s.next(WAIT);
            assertThat(m).isNotNull();
            assertThat(m.payloadAsString()).isEqualTo("body");
            assertThat(m.replyTo()).isEqualTo("cli.answers");
            assertThat(m.headers()).containsEntry("trace", "abc").containsEntry("k", "v").hasSize(2);
        }
    }

    @Test
    void reqGetsWhatReplyAnswers() throws Exception {
        Future<Run> reply = ternInBackground("answering requests on", "reply", "cli.time", "noon", "--count", "2",
                "--server", server);

        for (int i = 0; i < 2; i++) {
            Run req = tern("req", "cli.time", "what time is it?", "--timeout", "5000", "--server", server);
            assertThat(req.exitCode).as(req.toString()).isZero();
            assertThat(req.out()).isEqualTo("noon" + System.lineSeparator());
        }
        Run replied = result(reply);
        assertThat(replied.exitCode).as(replied.toString()).isZero();
    }

    @Test
    void reqWithoutResponderExitsOneWithReason() {
        Run req = tern("req", "cli.nobody.home", "anyone?", "--server", server);
        assertThat(req.exitCode).as(req.toString()).isEqualTo(1);
        assertThat(req.err()).contains("no responders");
        assertThat(req.err().lines().count()).as(req.toString()).isEqualTo(1);
        assertThat(req.out()).isEmpty();
    }

    @Test
    void reqTimesOutWhenTheResponderIsSilent() throws Exception {
        try (Connection silent = Tern.connect("127.0.0.1", broker.port())) {
            silent.subscribe("cli.silent");
            silent.flush(WAIT);
            Run req = tern("req", "cli.silent", "hello?", "--timeout", "200", "--server", server);
            assertThat(req.exitCode).as(req.toString()).isEqualTo(1);
            assertThat(req.err()).contains("timed out after 200 ms");
            assertThat(req.err().lines().count()).as(req.toString()).isEqualTo(1);
        }
    }

    @Test
    void subjectTheClientRejectsIsAUsageError() {
        Run pub = tern("pub", "has space", "x", "--server", server);
        assertThat(pub.exitCode).as(pub.toString()).isEqualTo(2);
        assertThat(pub.err()).startsWith("tern pub: invalid argument: ").contains("--help");
        assertThat(pub.err()).doesNotContain("\tat ");

        Run req = tern("req", "orders.>", "x", "--server", server);
        assertThat(req.exitCode).as(req.toString()).isEqualTo(2);
    }

    @Test
    void connectionRefusedIsOneLineWithoutStackTrace() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Run pub = tern("pub", "cli.x", "y", "--server", "127.0.0.1:" + closedPort);
        assertThat(pub.exitCode).as(pub.toString()).isEqualTo(1);
        assertThat(pub.err()).startsWith("tern pub: cannot connect to 127.0.0.1:" + closedPort);
        assertThat(pub.err().lines().count()).as(pub.toString()).isEqualTo(1);

        Run verbose = tern("pub", "cli.x", "y", "--verbose", "--server", "127.0.0.1:" + closedPort);
        assertThat(verbose.exitCode).isEqualTo(1);
        assertThat(verbose.err()).contains("\tat ");
    }

    @Test
    void benchPubSubDeliversEverything() {
        Run bench = tern("bench", "pubsub", "--msgs", "20000", "--size", "64", "--server", server);
        assertThat(bench.exitCode).as(bench.toString()).isZero();
        Matcher m = result(bench, "pubsub");
        assertThat(m.group()).contains(" msgs=20000 ", " size=64 ", " expected=20000 ", " delivered=20000 ",
                " lost=0 ");
        assertThat(bench.err()).as("no progress bar when stderr is not a terminal").isEmpty();
    }

    @Test
    void benchFanoutDeliversEverythingToEverySubscriber() {
        Run bench = tern("bench", "fanout", "--msgs", "5000", "--subs", "3", "--runs", "2", "--server", server);
        assertThat(bench.exitCode).as(bench.toString()).isZero();
        List<String> results = bench.out().lines().filter(l -> l.startsWith("RESULT ")).toList();
        assertThat(results).hasSize(2);
        for (String line : results) {
            assertThat(line).contains("workload=fanout", " subs=3 ", " expected=15000 ", " delivered=15000 ",
                    " lost=0 ");
        }
    }

    @Test
    void benchReqRepReportsLatencyPercentiles() {
        Run bench = tern("bench", "reqrep", "--msgs", "2000", "--warmup", "200", "--server", server);
        assertThat(bench.exitCode).as(bench.toString()).isZero();
        Matcher m = result(bench, "reqrep");
        assertThat(m.group()).contains(" msgs=2000 ", " delivered=2000 ", " lost=0 ");
        for (String key : List.of("p50_us", "p90_us", "p99_us", "p999_us", "max_us")) {
            assertThat(m.group()).containsPattern(" " + key + "=\\d+\\.\\d ");
        }
    }

    @Test
    void benchWithoutServerStartsAnEmbeddedBroker() {
        Run bench = tern("bench", "pubsub", "--msgs", "5000", "--event-loops", "1", "--progress");
        assertThat(bench.exitCode).as(bench.toString()).isZero();
        assertThat(bench.out()).containsPattern("embedded broker on 127\\.0\\.0\\.1:\\d+");
        assertThat(result(bench, "pubsub").group()).contains(" delivered=5000 ", " lost=0 ");
    }

    @Test
    void brokerCommandRejectsABadConfigFile() throws IOException {
        Path config = Files.writeString(dataDir.resolve("bad.properties"), "no_such_key = 1\n", UTF_8);
        Run r = tern("broker", "--config", config.toString(), "--port", "0");
        assertThat(r.exitCode).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains("no_such_key");
    }

    @Test
    void brokerCommandRunsFromTheUberJarAndExitsZeroOnSigterm() throws Exception {
        Path jar = copyOfUberJar();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString(), "broker", "--port", "0", "--data", dataDir.resolve("child").toString())
                .redirectErrorStream(true)
                .start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread pump = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the child is gone; its exit code is checked below
                }
            }, "cli-it-broker-output");
            pump.setDaemon(true);
            pump.start();

            Pattern listening = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
            StringBuilder output = new StringBuilder();
            int port = -1;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (port < 0) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertThat(line).as("broker did not report its port; output so far:%n%s", output).isNotNull();
                output.append(line).append('\n');
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }

            Run pub = tern("pub", "cli.child", "x", "--server", "127.0.0.1:" + port);
            assertThat(pub.exitCode).as(pub.toString()).isZero();

            p.destroy(); // SIGTERM
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("broker exits after SIGTERM").isTrue();
            assertThat(p.exitValue()).as("exit code; output:%n%s", output).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    /** The -all jar tern-cli's package phase built, copied so a concurrent rebuild cannot change it under us. */
    private static Path copyOfUberJar() throws IOException {
        Path target = Path.of("..", "tern-cli", "target").toAbsolutePath().normalize();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(target, "tern-cli-*-all.jar")) {
            for (Path jar : jars) {
                return Files.copy(jar, dataDir.resolve("tern-cli-all-" + System.nanoTime() + ".jar"));
            }
        }
        throw new AssertionError("no tern-cli-*-all.jar in " + target + "; run through mvn verify (package first)");
    }

    private static Matcher result(Run bench, String workload) {
        Matcher m = Pattern.compile("^RESULT workload=" + workload + " .*$", Pattern.MULTILINE).matcher(bench.out());
        assertThat(m.find()).as(bench.toString()).isTrue();
        return m;
    }
}
