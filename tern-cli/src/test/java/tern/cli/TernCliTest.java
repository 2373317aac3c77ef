package tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Argument parsing only: every case here fails before any connection is attempted. */
@Timeout(10)
class TernCliTest {

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TernCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"broker", "pub", "sub", "req", "reply", "bench"})
    void everyCommandHasHelp(String command) {
        Run r = run(command, "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: tern " + command);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void topLevelHelpListsEveryCommand() {
        Run r = run("--help");
        assertThat(r.exitCode()).isZero();
        for (String command : List.of("broker", "pub", "sub", "req", "reply", "bench")) {
            assertThat(r.out()).contains(command);
        }
    }

    @Test
    void versionIsPrinted() {
        Run r = run("--version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("tern ");
    }

    @Test
    void missingCommandIsUsageError() {
        Run r = run();
        assertThat(r.exitCode()).isEqualTo(TernCli.EXIT_USAGE);
        assertThat(r.err()).contains("missing command").contains("--help");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "frobnicate",
        "pub",
        "pub only.subject",
        "pub a b c",
        "pub a b --count 0",
        "pub a b --count -3",
        "pub a b --count many",
        "pub a b --server nohostport",
        "pub a b --server host:notaport",
        "pub a b --server host:70000",
        "pub a b --server :7420",
        "pub a b --no-such-option",
        "sub",
        "sub a --count 0",
        "req a",
        "req a b --timeout 0",
        "reply a",
        "reply a b --count 0",
        "bench",
        "bench nosuchworkload",
        "bench pubsub --msgs 0",
        "bench pubsub --size -1",
        "bench pubsub --runs 0",
        "bench pubsub --subs 3",
        "bench reqrep --subs 3",
        "bench fanout --subs 0",
        "bench pubsub --warmup -1",
        "bench pubsub --server 127.0.0.1:7420 --event-loops 2",
        "bench pubsub --event-loops 0",
        "broker --port 70000",
        "broker --port -1",
        "broker --event-loops 0",
        "broker extra",
    })
    void usageErrorsExitTwoWithShortMessage(String line) {
        Run r = run(line.split(" "));
        assertThat(r.exitCode()).as(line).isEqualTo(TernCli.EXIT_USAGE);
        assertThat(r.err()).as(line).contains("--help' for more information");
        // a short error, not the whole usage text
        assertThat(r.err().lines().count()).as(line + ":\n" + r.err()).isLessThanOrEqualTo(4);
        assertThat(r.out()).as(line).isEmpty();
    }

    @Test
    void unknownCommandSuggestsTheNearestOne() {
        Run r = run("pubb", "a", "b");
        assertThat(r.exitCode()).isEqualTo(TernCli.EXIT_USAGE);
        assertThat(r.err()).contains("pub");
    }

    @Test
    void workloadNamesAreCaseInsensitive() {
        // fails on the range check after the workload was accepted
        Run r = run("bench", "PubSub", "--msgs", "0");
        assertThat(r.exitCode()).isEqualTo(TernCli.EXIT_USAGE);
        assertThat(r.err()).contains("--msgs 0 outside");
    }
}
