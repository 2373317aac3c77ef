package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.cli.TernCli;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.client.Tern;
import tern.protocol.ErrorCode;
import tern.testkit.BrokerLogGuard;

/**
 * {@code tern user} round trip, in process: add, ls, passwd, token, rm on a users file in a temporary
 * directory, then a real broker on 127.0.0.1, port 0, started with that file, and logins (client and
 * CLI) with what the commands produced.
 */
@Timeout(60)
class UserCliIT {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run tern(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        InputStream previous = System.in;
        System.setIn(new ByteArrayInputStream((stdin == null ? "" : stdin).getBytes(UTF_8)));
        try {
            int code = TernCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setIn(previous);
        }
    }

    @Test
    void userCommandsRoundTripAndTheirResultLogsIn() throws Exception {
        Path users = dir.resolve("users.tern");
        String file = users.toString();

        Run add = tern("first-pw\n", "user", "add", "alice", "--roles", "producer,consumer", "--password-stdin",
                "--users", file);
        assertThat(add.exitCode()).as("%s", add).isZero();
        assertThat(add.out()).contains("added alice").contains("roles=producer,consumer").doesNotContain("first-pw");
        if (Files.getFileStore(users).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(users))).isEqualTo("rw-------");
        }
        Run bob = tern(null, "user", "add", "bob", "--password", "bob-pw", "--publish", "metrics.>,-metrics.secret",
                "--subscribe", "metrics.*", "--users", file);
        assertThat(bob.exitCode()).as("%s", bob).isZero();
        Run again = tern("x\n", "user", "add", "alice", "--password-stdin", "--users", file);
        assertThat(again.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
        assertThat(again.err()).contains("already exists");
        Run badRole = tern(null, "user", "add", "carol", "--roles", "wizard", "--password", "p", "--users", file);
        assertThat(badRole.exitCode()).isEqualTo(TernCli.EXIT_USAGE);

        Run ls = tern(null, "user", "ls", "--users", file);
        assertThat(ls.exitCode()).isZero();
        assertThat(ls.out()).contains("alice").contains("bob").contains("publish=metrics.>,-metrics.secret")
                .doesNotContain("scram-sha-256=").doesNotContain("first-pw").doesNotContain("bob-pw");

        Run passwd = tern("second-pw\n", "user", "passwd", "alice", "--password-stdin", "--users", file);
        assertThat(passwd.exitCode()).as("%s", passwd).isZero();
        Run token = tern(null, "user", "token", "alice", "--users", file);
        assertThat(token.exitCode()).isZero();
        String aliceToken = token.out().strip();
        assertThat(aliceToken).startsWith("tern_");
        assertThat(Files.readString(users)).doesNotContain(aliceToken);

        Run rm = tern(null, "user", "rm", "bob", "--users", file);
        assertThat(rm.exitCode()).isZero();
        Run rmAgain = tern(null, "user", "rm", "bob", "--users", file);
        assertThat(rmAgain.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
        assertThat(tern(null, "user", "ls", "--users", file).out()).contains("alice").doesNotContain("bob");

        // `tern broker --users FILE` sets the users_file key
        assertThat(BrokerConfig.load(null, Map.of(), Map.of("users_file", file)).usersFile()).isEqualTo(users);

        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0)
                .withDataDir(dir.resolve("data")).withUsersFile(users))) {
            ConnectOptions.Builder o = ConnectOptions.builder().port(broker.port()).connectTimeout(WAIT).reconnect(false);
            try (Connection c = Tern.connect(o.user("alice").password("second-pw").build())) {
                c.flush(WAIT);
            }
            assertThatThrownBy(() -> Tern.connect(o.user("alice").password("first-pw").build()).close())
                    .isInstanceOfSatisfying(ServerException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));
            assertThatThrownBy(() -> Tern.connect(o.user("bob").password("bob-pw").build()).close())
                    .isInstanceOf(ServerException.class);

            String server = "127.0.0.1:" + broker.port();
            try (Connection watcher = Tern.connect(ConnectOptions.builder().port(broker.port()).connectTimeout(WAIT)
                    .reconnect(false).token(aliceToken).build())) {
                Subscription s = watcher.subscribe("cli.auth");
                Run pub = tern(null, "pub", "cli.auth", "via-password", "--server", server, "--user", "alice",
                        "--password", "second-pw");
                assertThat(pub.exitCode()).as("%s", pub).isZero();
                Run viaToken = tern(null, "pub", "cli.auth", "via-token", "--server", server, "--token", aliceToken);
                assertThat(viaToken.exitCode()).as("%s", viaToken).isZero();
                assertThat(new String(s.next(WAIT).payload(), UTF_8)).isEqualTo("via-password");
                assertThat(new String(s.next(WAIT).payload(), UTF_8)).isEqualTo("via-token");
            }
            Run denied = tern(null, "pub", "cli.auth", "x", "--server", server, "--user", "alice", "--password",
                    "wrong");
            assertThat(denied.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
            assertThat(denied.err()).contains("AUTH_FAILED").doesNotContain("wrong");
            Run anonymous = tern(null, "pub", "cli.auth", "x", "--server", server);
            assertThat(anonymous.exitCode()).isEqualTo(TernCli.EXIT_FAILED);
            assertThat(anonymous.err()).contains("AUTH_REQUIRED");
            Run both = tern(null, "pub", "cli.auth", "x", "--server", server, "--user", "alice", "--token", aliceToken);
            assertThat(both.exitCode()).isEqualTo(TernCli.EXIT_USAGE);
        }
    }
}
