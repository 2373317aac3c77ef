package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import tern.auth.Role;
import tern.auth.User;
import tern.auth.UserStore;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.broker.security.Authenticator;
import tern.broker.security.Login;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ConnectionEvent;
import tern.client.ConnectionListener;
import tern.client.ConnectionStatus;
import tern.client.ServerException;
import tern.client.ServerIdentityException;
import tern.client.Subscription;
import tern.client.Tern;
import tern.client.TernException;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.auth.AuthMechanism;
import tern.protocol.auth.ScramClient;
import tern.testkit.BrokerLogGuard;
import tern.testkit.RawConnection;

/**
 * Authentication end to end (docs/security.md): a real broker on 127.0.0.1, port 0, with a users file
 * in a temporary directory; the real client, and RawConnection for the frames a polite client never
 * sends. One broker per test, so the login throttle's per-address penalties do not leak between tests.
 */
@Timeout(60)
class AuthIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String TOKEN = "tern_auth-it-token-4f9a1c";
    private static final Duration MIN_FAILURE_DELAY = Duration.ofMillis(100);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    Path dir;

    private Path usersFile;
    private TernBroker broker;
    private final ListAppender<ILoggingEvent> securityLog = new ListAppender<>();

    @BeforeEach
    void start() throws Exception {
        Logger security = (Logger) LoggerFactory.getLogger("tern.broker.security");
        securityLog.setContext(security.getLoggerContext());
        securityLog.start();
        security.addAppender(securityLog);
        SecureRandom random = new SecureRandom();
        usersFile = dir.resolve("users.tern");
        UserStore.empty()
                .put(User.named("alice").withRoles(Set.of(Role.PRODUCER, Role.CONSUMER))
                        .withPassword("alice-pw", 4096, random))
                .put(User.named("bot").withRoles(Set.of(Role.CONSUMER)).withToken(TOKEN))
                .save(usersFile);
        broker = start(usersFile, Limits.DEFAULT);
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
        Logger security = (Logger) LoggerFactory.getLogger("tern.broker.security");
        security.detachAppender(securityLog);
        securityLog.stop();
    }

    private TernBroker start(Path users, Limits limits) {
        return TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir.resolve("data"))
                .withLimits(limits).withUsersFile(users).withDrainTimeout(Duration.ofMillis(200)));
    }

    private ConnectOptions.Builder options() {
        return ConnectOptions.builder().port(broker.port()).connectTimeout(WAIT).reconnect(false);
    }

    @Test
    void scramLoginWorksAndTheConnectionIsUsable() {
        try (Connection c = Tern.connect(options().user("alice").password("alice-pw").build())) {
            Subscription s = c.subscribe("auth.it");
            c.publish("auth.it", "hi".getBytes(UTF_8));
            assertThat(s.next(WAIT).payload()).isEqualTo("hi".getBytes(UTF_8));
        }
        assertThat(broker.authenticationRequired()).isTrue();
        assertThat(warnings()).noneMatch(m -> m.contains("AUTHENTICATION IS OFF"));
    }

    @Test
    void wrongPasswordAndUnknownUserFailIdenticallyAndLate() throws Exception {
        Failure wrong = rawScramFailure("alice", "not-the-password");
        Failure unknown = rawScramFailure("mallory", "alice-pw");
        assertThat(wrong.error.code()).isEqualTo(ErrorCode.AUTH_FAILED.code());
        assertThat(wrong.error.closing()).isTrue();
        assertThat(wrong.error.text()).isEqualTo(Login.FAILED_TEXT);
        assertThat(unknown.error).isEqualTo(wrong.error);
        // behaviour bound (the throttle's hold), not a speed claim
        assertThat(wrong.elapsed).isGreaterThanOrEqualTo(MIN_FAILURE_DELAY);
        assertThat(unknown.elapsed).isGreaterThanOrEqualTo(MIN_FAILURE_DELAY);
        assertThat(wrong.closed).isTrue();
        assertThat(unknown.closed).isTrue();
        poll(() -> broker.stats().authFailures() == 2);
        // the failures are logged with the peer address, never the password
        List<String> warnings = warnings();
        assertThat(warnings).filteredOn(m -> m.startsWith("authentication failed")).hasSize(2)
                .allMatch(m -> m.contains("127.0.0.1"));
        assertThat(warnings).noneMatch(m -> m.contains("not-the-password") || m.contains("alice-pw"));
    }

    @Test
    void anAddressInItsPenaltyWaitsBeforeItsNextHelloIsRead() throws Exception {
        // failures 1..3 from 127.0.0.1 are held 100, 200 and 400 ms; the third one's penalty runs 400 ms
        rawScramFailure("alice", "x1");
        rawScramFailure("alice", "x2");
        try (RawConnection third = RawConnection.open("127.0.0.1", broker.port());
             RawConnection next = RawConnection.open("127.0.0.1", broker.port())) {
            third.sendPreface();
            ScramClient scram = new ScramClient("alice", "x3");
            third.send(hello(AuthMechanism.SCRAM_SHA_256, scram.clientFirst()));
            third.send(new Frame.Auth(scram.clientFinal(third.receive(Frame.Challenge.class, WAIT).data())));
            poll(() -> broker.stats().authFailures() == 3);
            long sent = System.nanoTime();
            next.sendPreface();
            next.send(hello(AuthMechanism.SCRAM_SHA_256, new ScramClient("alice", "alice-pw").clientFirst()));
            assertThat(next.receive(Frame.Challenge.class, WAIT)).isNotNull();
            // behaviour bound: at least part of the 400 ms penalty was waited out (generous for slow machines)
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(MIN_FAILURE_DELAY);
            assertThat(third.receive(Frame.Error.class, WAIT).code()).isEqualTo(ErrorCode.AUTH_FAILED.code());
        }
    }

    @Test
    void theClientSeesAuthFailedWithTheSameTextForBothCases() {
        ServerException wrong = connectFails(options().user("alice").password("nope").build());
        ServerException unknown = connectFails(options().user("nobody").password("nope").build());
        assertThat(wrong.code()).isEqualTo(ErrorCode.AUTH_FAILED);
        assertThat(unknown.code()).isEqualTo(ErrorCode.AUTH_FAILED);
        assertThat(unknown.text()).isEqualTo(wrong.text()).isEqualTo(Login.FAILED_TEXT);
    }

    @Test
    void tokenLogin() throws Exception {
        try (Connection c = Tern.connect(options().token(TOKEN).build())) {
            c.flush(WAIT);
            assertThat(c.status()).isEqualTo(ConnectionStatus.CONNECTED);
        }
        ServerException bad = connectFails(options().token("tern_wrong").build());
        assertThat(bad.code()).isEqualTo(ErrorCode.AUTH_FAILED);
        assertThat(bad.text()).isEqualTo(Login.FAILED_TEXT);
    }

    @Test
    void noMechanismIsAuthRequiredAndAnUnknownOneUnsupported() throws Exception {
        try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
            raw.sendPreface();
            raw.send(RawConnection.hello("no-auth"));
            Frame.Error e = raw.receive(Frame.Error.class, WAIT);
            assertThat(e.code()).isEqualTo(ErrorCode.AUTH_REQUIRED.code());
            assertThat(e.closing()).isTrue();
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
        try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
            raw.sendPreface();
            raw.send(hello("PLAIN", "x".getBytes(UTF_8)));
            Frame.Error e = raw.receive(Frame.Error.class, WAIT);
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_MECHANISM.code());
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
        ServerException viaClient = connectFails(options().build());
        assertThat(viaClient.code()).isEqualTo(ErrorCode.AUTH_REQUIRED);
    }

    @Test
    void anyFrameBeforeAuthenticationCompletesIsUnexpected() throws Exception {
        for (Frame early : List.<Frame>of(new Frame.Ping(1), RawConnection.sub(1, "auth.>"),
                RawConnection.pub("auth.x", new byte[1]))) {
            try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
                raw.sendPreface();
                ScramClient scram = new ScramClient("alice", "alice-pw");
                raw.send(hello(AuthMechanism.SCRAM_SHA_256, scram.clientFirst()));
                assertThat(raw.receive(Frame.Challenge.class, WAIT)).isNotNull();
                raw.send(early);
                Frame.Error e = raw.receive(Frame.Error.class, WAIT);
                assertThat(e.code()).as("%s", early).isEqualTo(ErrorCode.UNEXPECTED_FRAME.code());
                assertThat(e.closing()).isTrue();
                assertThat(raw.awaitClosed(WAIT)).isTrue();
            }
        }
        // and AUTH without a CHALLENGE (a TOKEN login has none)
        try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
            raw.sendPreface();
            raw.send(new Frame.Auth("c=biws".getBytes(UTF_8)));
            assertThat(raw.receive(Frame.Error.class, WAIT).code()).isEqualTo(ErrorCode.UNEXPECTED_FRAME.code());
        }
    }

    @Test
    void theHandshakeTimeoutClosesAConnectionStuckInAuth() throws Exception {
        broker.close();
        Limits d = Limits.DEFAULT;
        broker = start(usersFile, d.withTimeouts(Duration.ofMillis(500), d.pingInterval(), d.idleTimeout()));
        try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
            raw.sendPreface();
            raw.send(hello(AuthMechanism.SCRAM_SHA_256, new ScramClient("alice", "alice-pw").clientFirst()));
            assertThat(raw.receive(Frame.Challenge.class, WAIT)).isNotNull();
            // no AUTH: the server gives up at its handshake timeout
            Frame.Error e = raw.receive(Frame.Error.class, WAIT);
            assertThat(e.code()).isEqualTo(ErrorCode.HANDSHAKE_TIMEOUT.code());
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
    }

    @Test
    void reconnectAuthenticatesAgain() throws Exception {
        List<ConnectionEvent> events = new CopyOnWriteArrayList<>();
        int port = broker.port();
        try (Connection c = Tern.connect(options().user("alice").password("alice-pw").reconnect(true)
                .reconnectWait(Duration.ofMillis(20), Duration.ofMillis(200)).listener(listener(events, null)).build())) {
            Subscription s = c.subscribe("again");
            broker.close();
            broker = TernBroker.start(BrokerConfig.defaults().withPort(port).withDataDir(dir.resolve("data"))
                    .withUsersFile(usersFile));
            poll(() -> events.contains(ConnectionEvent.RECONNECTED));
            c.publish("again", "back".getBytes(UTF_8));
            assertThat(s.next(WAIT).payload()).isEqualTo("back".getBytes(UTF_8));
            assertThat(broker.stats().authFailures()).isZero();
        }
    }

    @Test
    void authFailedOnReconnectClosesInsteadOfLooping() throws Exception {
        List<ConnectionEvent> events = new CopyOnWriteArrayList<>();
        List<TernException> errors = new CopyOnWriteArrayList<>();
        int port = broker.port();
        try (Connection c = Tern.connect(options().user("alice").password("alice-pw").reconnect(true)
                .reconnectWait(Duration.ofMillis(10), Duration.ofMillis(20)).listener(listener(events, errors))
                .build())) {
            broker.close();
            UserStore.load(usersFile).changePassword("alice", "changed-pw").save(usersFile);
            broker = TernBroker.start(BrokerConfig.defaults().withPort(port).withDataDir(dir.resolve("data"))
                    .withUsersFile(usersFile));
            poll(() -> c.status() == ConnectionStatus.CLOSED);
            assertThat(errors).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(ServerException.class,
                    se -> assertThat(se.code()).isEqualTo(ErrorCode.AUTH_FAILED)));
            // one failed attempt, then nothing more: give a loop time to show itself
            long until = System.nanoTime() + Duration.ofMillis(500).toNanos();
            while (System.nanoTime() < until) {
                LockSupport.parkNanos(10_000_000);
            }
            assertThat(broker.stats().authFailures()).isEqualTo(1);
            assertThat(broker.stats().connectionsAccepted()).isEqualTo(1);
        }
    }

    @Test
    void aServerThatCannotProveItselfIsRefused() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> lyingServer(fake), "lying-server");
            server.setDaemon(true);
            server.start();
            ConnectOptions o = ConnectOptions.builder().port(fake.getLocalPort()).connectTimeout(WAIT).reconnect(false)
                    .user("alice").password("alice-pw").build();
            assertThatThrownBy(() -> Tern.connect(o)).isInstanceOf(ServerIdentityException.class)
                    .hasMessageContaining("did not prove");
            server.join(WAIT.toMillis());
        }
    }

    @Test
    void reloadAdmitsANewUser() throws Exception {
        UserStore.load(usersFile).add("carol", "carol-pw", Set.of(Role.CONSUMER), 4096, new SecureRandom())
                .save(usersFile);
        assertThat(connectFails(options().user("carol").password("carol-pw").build()).code())
                .isEqualTo(ErrorCode.AUTH_FAILED);
        assertThat(broker.reloadUsers()).isTrue();
        try (Connection c = Tern.connect(options().user("carol").password("carol-pw").build())) {
            c.flush(WAIT);
        }
    }

    @Test
    void anOpenBrokerSaysSoLoudly() {
        // beside the broker of @BeforeEach, so on its own data directory (one broker per directory)
        try (TernBroker open = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir.resolve("open"))
                .withDrainTimeout(Duration.ofMillis(200)));
             Connection c = Tern.connect(ConnectOptions.builder().port(open.port()).reconnect(false).build())) {
            c.flush(WAIT);
            assertThat(open.authenticationRequired()).isFalse();
        }
        assertThat(securityLog.list).anySatisfy(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getLoggerName()).isEqualTo(Authenticator.class.getName());
            assertThat(e.getFormattedMessage()).contains("AUTHENTICATION IS OFF");
        });
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private record Failure(Frame.Error error, Duration elapsed, boolean closed) {
    }

    /** A SCRAM exchange over a raw socket; measures from sending AUTH to receiving the ERROR. */
    private Failure rawScramFailure(String user, String password) throws Exception {
        try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
            raw.sendPreface();
            ScramClient scram = new ScramClient(user, password);
            raw.send(hello(AuthMechanism.SCRAM_SHA_256, scram.clientFirst()));
            Frame.Challenge challenge = raw.receive(Frame.Challenge.class, WAIT);
            byte[] clientFinal = scram.clientFinal(challenge.data());
            long sent = System.nanoTime();
            raw.send(new Frame.Auth(clientFinal));
            Frame.Error error = raw.receive(Frame.Error.class, WAIT);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - sent);
            return new Failure(error, elapsed, raw.awaitClosed(WAIT));
        }
    }

    private static Frame.Hello hello(String mechanism, byte[] authData) {
        return new Frame.Hello(Frame.VERSION, Frame.VERSION, 0, 0, "auth-it", "test", mechanism, authData);
    }

    private static ServerException connectFails(ConnectOptions o) {
        try (Connection c = Tern.connect(o)) {
            throw new AssertionError("connected: " + c.serverInfo());
        } catch (ServerException e) {
            return e;
        }
    }

    private List<String> warnings() {
        return securityLog.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static ConnectionListener listener(List<ConnectionEvent> events, List<TernException> errors) {
        return new ConnectionListener() {
            @Override
            public void onEvent(ConnectionEvent event, Connection connection) {
                events.add(event);
            }

            @Override
            public void onError(TernException error) {
                if (errors != null) {
                    errors.add(error);
                }
            }
        };
    }

    private static void poll(BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + WAIT);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    /**
     * A scripted impostor: answers the client's SCRAM exchange with a well-formed challenge but, not
     * knowing alice's ServerKey, a made-up server signature.
     */
    private static void lyingServer(ServerSocket listening) {
        try (Socket s = listening.accept()) {
            s.setSoTimeout((int) WAIT.toMillis());
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            in.readFully(new byte[Frame.PREFACE.length]);
            Frame.Hello hello = (Frame.Hello) readFrame(in);
            String clientFirst = new String(hello.authData(), UTF_8);
            String clientNonce = clientFirst.substring(clientFirst.indexOf("r=") + 2);
            byte[] salt = new byte[16];
            new SecureRandom().nextBytes(salt);
            String serverFirst = "r=" + clientNonce + "impostor,s=" + Base64.getEncoder().encodeToString(salt)
                    + ",i=4096";
            write(out, new Frame.Challenge(serverFirst.getBytes(UTF_8)));
            assertThat(readFrame(in)).isInstanceOf(Frame.Auth.class);
            byte[] fakeSignature = new byte[32];
            new SecureRandom().nextBytes(fakeSignature);
            Limits l = Limits.DEFAULT;
            write(out, new Frame.Welcome(Frame.VERSION, l.maxFrameBytes(), l.maxSubjectBytes(), l.maxHeaders(),
                    l.maxSubscriptions(), (int) l.pingInterval().toMillis(), (int) l.idleTimeout().toMillis(), 0,
                    "impostor", "0", ("v=" + Base64.getEncoder().encodeToString(fakeSignature)).getBytes(UTF_8)));
            // the client must hang up rather than use the connection
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Frame readFrame(DataInputStream in) throws IOException {
        int bodyBytes = in.readInt();
        assertThat(bodyBytes).isBetween(Frame.HEADER_BYTES, 64 << 10);
        ByteBuffer frame = ByteBuffer.allocate(4 + bodyBytes).putInt(bodyBytes);
        in.readFully(frame.array(), 4, bodyBytes);
        return Frames.decode(frame.position(0));
    }

    private static void write(OutputStream out, Frame f) throws IOException {
        ByteBuffer b = Frames.encode(f);
        out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
        out.flush();
    }
}
