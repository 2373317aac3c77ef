package tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import tern.client.Overflow;
import tern.client.QueueInfo;
import tern.client.QueueOptions;

/** Parsing of the queue commands: every case fails (or succeeds) before any connection is attempted. */
@Timeout(10)
class QueueCliTest {

    @ParameterizedTest
    @ValueSource(strings = {"queue", "queue declare", "queue ls", "queue purge", "queue rm", "queue redrive",
        "queue bind", "queue unbind", "send", "consume"})
    void everyQueueCommandHasHelp(String command) {
        TernCliTest.Run r = TernCliTest.run((command + " --help").split(" "));
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: tern " + command);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "queue",
        "queue frob",
        "queue declare",
        "queue declare q --ttl 5",
        "queue declare q --ttl 5x",
        "queue declare q --ttl -1s",
        "queue declare q --ttl 0s",
        "queue declare q --expires 1.5h",
        "queue declare q --ack-timeout 400d",
        "queue declare q --max-bytes 10XB",
        "queue declare q --max-bytes 0",
        "queue declare q --max-length 0",
        "queue declare q --max-length many",
        "queue declare q --max-length 5 --overflow sideways",
        "queue declare q --overflow reject",
        "queue declare q --max-deliveries 3",
        "queue declare q --max-deliveries 0 --dead-letter dlq",
        "queue declare q --durable --transient",
        "queue declare q --transient --fsync-interval 1s",
        "queue declare q --fsync-interval 0ms",
        "queue declare q r",
        "queue purge",
        "queue rm",
        "queue rm a b",
        "queue redrive",
        "queue bind",
        "queue bind q",
        "queue bind q a b",
        "queue unbind",
        "queue unbind q",
        "queue unbind q a b",
        "queue ls --rates 0s",
        "queue ls --rates 11m",
        "queue ls --rates soon",
        "send",
        "send q",
        "send q p --count 0",
        "send q p --count -1",
        "send q p --confirm-timeout 0s",
        "send q p --confirm-timeout soon",
        "consume",
        "consume q --count 0",
        "consume q --prefetch 0",
        "consume q --prefetch 70000",
        "consume q --server nohostport",
    })
    void usageErrorsExitTwo(String args) {
        TernCliTest.Run r = TernCliTest.run(args.split(" "));
        assertThat(r.exitCode()).as("%s -> %s", args, r.err()).isEqualTo(TernCli.EXIT_USAGE);
        assertThat(r.err()).contains("--help");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void declareOptionsMapToQueueOptions() {
        QueueCommand.Declare d = parse("q", "--ttl", "30s", "--expires", "1h", "--ack-timeout", "500ms",
                "--max-length", "1000", "--max-bytes", "10MiB", "--overflow", "drop-head", "--max-deliveries", "5",
                "--dead-letter", "dlq", "--bind", "orders.*", "--bind", "audit.>", "--fsync-interval", "20ms");
        QueueOptions o = d.options(d.spec);
        assertThat(o.durable()).isTrue();
        assertThat(o.messageTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(o.expires()).isEqualTo(Duration.ofHours(1));
        assertThat(o.ackTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(o.maxLength()).isEqualTo(1000);
        assertThat(o.maxBytes()).isEqualTo(10L << 20);
        assertThat(o.overflow()).isEqualTo(Overflow.DROP_HEAD);
        assertThat(o.maxDeliveries()).isEqualTo(5);
        assertThat(o.deadLetterQueue()).isEqualTo("dlq");
        assertThat(o.bindings()).isEqualTo(List.of("orders.*", "audit.>"));
        assertThat(o.fsyncInterval()).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void declareDefaultsAreTheClientDefaults() {
        QueueCommand.Declare d = parse("q");
        assertThat(d.options(d.spec)).isEqualTo(QueueOptions.durableQueue());
        QueueCommand.Declare t = parse("q", "--transient");
        assertThat(t.options(t.spec)).isEqualTo(QueueOptions.transientQueue());
    }

    private static QueueCommand.Declare parse(String... args) {
        QueueCommand.Declare d = new QueueCommand.Declare();
        new CommandLine(d).parseArgs(args);
        return d;
    }

    @Test
    void ratesAreDeltasPerSecondBetweenTwoSamples() {
        QueueOptions o = QueueOptions.durableQueue();
        List<QueueInfo> before = List.of(
                new QueueInfo("jobs", true, 5, 0, 1, 100, 90, 80, o),
                new QueueInfo("reset", true, 0, 0, 0, 50, 50, 50, o));
        List<QueueInfo> after = List.of(
                new QueueInfo("jobs", true, 5, 0, 1, 400, 290, 230, o),
                new QueueInfo("new", false, 1, 0, 0, 1, 0, 0, o),
                new QueueInfo("reset", true, 0, 0, 0, 3, 3, 3, o));
        String table = QueueCommand.Ls.table(after, before, 2_000_000_000L);
        List<String> lines = table.lines().toList();
        assertThat(lines.get(0).trim().split("\\s+")).containsExactly("NAME", "DURABLE", "DEPTH", "UNACKED",
                "CONSUMERS", "PUBLISHED", "DELIVERED", "ACKED", "PUB/S", "DELIVER/S", "ACK/S");
        assertThat(lines.get(1).trim().split("\\s+")).containsExactly("jobs", "yes", "5", "0", "1", "400", "290",
                "230", "150", "100", "75");
        assertThat(lines.get(2).trim().split("\\s+")).endsWith("-", "-", "-"); // new since the first sample
        assertThat(lines.get(3).trim().split("\\s+")).endsWith("-", "-", "-"); // counters went back: a restart
        assertThat(QueueCommand.Ls.table(after, null, 0).lines().findFirst().orElseThrow()).doesNotContain("PUB/S");
    }
}
