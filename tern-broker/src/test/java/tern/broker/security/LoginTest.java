package tern.broker.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.auth.LoginThrottle;
import tern.auth.Role;
import tern.auth.User;
import tern.auth.UserStore;
import tern.protocol.ErrorCode;
import tern.protocol.auth.AuthMechanism;
import tern.protocol.auth.ScramClient;
import tern.protocol.auth.ScramException;

@Timeout(30)
class LoginTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 40000);
    private static final String TOKEN = "tern_test-token-0123456789";

    @TempDir
    Path dir;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private Authenticator authenticator() throws Exception {
        SecureRandom random = new SecureRandom();
        UserStore store = UserStore.empty()
                .put(User.named("alice").withRoles(EnumSet.of(Role.PRODUCER)).withPassword("s3cret", 4096, random))
                .put(User.named("bot").withToken(TOKEN).withRoles(Set.of(Role.CONSUMER)));
        Path file = dir.resolve("users.tern");
        store.save(file);
        return Authenticator.load(file, new LoginThrottle(nanos::get, Duration.ofMillis(100), Duration.ofSeconds(10),
                Duration.ofMinutes(15), 100));
    }

    @Test
    void scramLoginSucceedsAndTheServerProvesItself() throws Exception {
        Login login = authenticator().newLogin(PEER);
        ScramClient client = new ScramClient("alice", "s3cret");
        Login.Step first = login.hello(AuthMechanism.SCRAM_SHA_256, client.clientFirst());
        assertThat(first).isInstanceOf(Login.Challenge.class);
        assertThat(login.awaitingAuth()).isTrue();
        Login.Step last = login.auth(client.clientFinal(((Login.Challenge) first).data()));
        assertThat(last).isInstanceOf(Login.Success.class);
        Login.Success ok = (Login.Success) last;
        assertThat(ok.user()).isEqualTo("alice");
        assertThat(ok.access().user()).isEqualTo("alice");
        client.verifyServerFinal(ok.authData());
        assertThat(client.isComplete()).isTrue();
        assertThat(login.awaitingAuth()).isFalse();
    }

    @Test
    void wrongPasswordAndUnknownUserFailAlikeWithTheThrottlesDelay() throws Exception {
        Authenticator auth = authenticator();
        Login.Step wrong = scram(auth, "alice", "wrong");
        Login.Step unknown = scram(auth, "mallory", "s3cret");
        assertThat(wrong).isInstanceOf(Login.Failure.class);
        assertThat(unknown).isInstanceOf(Login.Failure.class);
        assertThat(((Login.Failure) wrong).hold()).isEqualTo(Duration.ofMillis(100));
        // second consecutive failure from the same address: doubled
        assertThat(((Login.Failure) unknown).hold()).isEqualTo(Duration.ofMillis(200));
        assertThat(auth.newLogin(PEER).holdBeforeHello()).isEqualTo(Duration.ofMillis(200));
        assertThat(auth.newLogin(new InetSocketAddress("127.0.0.2", 1)).holdBeforeHello()).isZero();
        // a success clears the address
        assertThat(scram(auth, "alice", "s3cret")).isInstanceOf(Login.Success.class);
        assertThat(auth.newLogin(PEER).holdBeforeHello()).isZero();
    }

    @Test
    void tokenLogin() throws Exception {
        Authenticator auth = authenticator();
        Login.Step ok = auth.newLogin(PEER).hello(AuthMechanism.TOKEN, TOKEN.getBytes(StandardCharsets.UTF_8));
        assertThat(ok).isInstanceOf(Login.Success.class);
        assertThat(((Login.Success) ok).user()).isEqualTo("bot");
        assertThat(((Login.Success) ok).authData()).isEmpty();
        Login.Step bad = auth.newLogin(PEER).hello(AuthMechanism.TOKEN, "tern_nope".getBytes(StandardCharsets.UTF_8));
        assertThat(bad).isInstanceOf(Login.Failure.class);
        Login.Step empty = auth.newLogin(PEER).hello(AuthMechanism.TOKEN, new byte[0]);
        assertThat(empty).isInstanceOf(Login.Failure.class);
    }

    @Test
    void malformedClientMessagesFailLikeWrongPasswords() throws Exception {
        Authenticator auth = authenticator();
        assertThat(auth.newLogin(PEER).hello(AuthMechanism.SCRAM_SHA_256, "garbage".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(Login.Failure.class);
        Login login = auth.newLogin(PEER);
        ScramClient client = new ScramClient("alice", "s3cret");
        assertThat(login.hello(AuthMechanism.SCRAM_SHA_256, client.clientFirst())).isInstanceOf(Login.Challenge.class);
        assertThat(login.auth("c=biws,r=x,p=AAAA".getBytes(StandardCharsets.UTF_8))).isInstanceOf(Login.Failure.class);
        assertThatThrownBy(() -> login.auth(new byte[0])).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void missingOrUnknownMechanismIsRefusedWithoutAPenalty() throws Exception {
        Authenticator auth = authenticator();
        Login.Step none = auth.newLogin(PEER).hello(AuthMechanism.NONE, new byte[0]);
        assertThat(none).isEqualTo(new Login.Refusal(ErrorCode.AUTH_REQUIRED,
                "this server requires authentication (mechanisms SCRAM-SHA-256, TOKEN)"));
        Login.Step other = auth.newLogin(PEER).hello("PLAIN", new byte[0]);
        assertThat(other).isInstanceOf(Login.Refusal.class);
        assertThat(((Login.Refusal) other).code()).isEqualTo(ErrorCode.UNSUPPORTED_MECHANISM);
        assertThat(auth.throttle().failures("127.0.0.1")).isZero();
    }

    @Test
    void openBrokerAdmitsNoMechanismOnly() {
        Authenticator open = Authenticator.open();
        assertThat(open.required()).isFalse();
        Login.Step ok = open.newLogin(PEER).hello(AuthMechanism.NONE, new byte[0]);
        assertThat(ok).isInstanceOf(Login.Success.class);
        assertThat(((Login.Success) ok).access().isOpen()).isTrue();
        Login.Step scram = open.newLogin(PEER).hello(AuthMechanism.SCRAM_SHA_256, new byte[0]);
        assertThat(((Login.Refusal) scram).code()).isEqualTo(ErrorCode.UNSUPPORTED_MECHANISM);
        assertThat(open.newLogin(PEER).holdBeforeHello()).isZero();
    }

    @Test
    void reloadSwapsTheStoreAndKeepsTheOldOneOnABadFile() throws Exception {
        Authenticator auth = authenticator();
        Path file = auth.usersFile();
        UserStore.load(file).add("carol", "pw-carol", Set.of(Role.CONSUMER), 4096, new SecureRandom()).save(file);
        assertThat(scram(auth, "carol", "pw-carol")).isInstanceOf(Login.Failure.class);
        assertThat(auth.reload()).isTrue();
        assertThat(scram(auth, "carol", "pw-carol")).isInstanceOf(Login.Success.class);
        Files.writeString(file, "carol bogus-key=1\n");
        assertThat(auth.reload()).isFalse();
        assertThat(scram(auth, "carol", "pw-carol")).isInstanceOf(Login.Success.class);
    }

    @Test
    void aMissingUsersFileIsAnErrorNamingIt() {
        Path missing = dir.resolve("nope.tern");
        assertThatThrownBy(() -> Authenticator.load(missing)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope.tern");
    }

    private static Login.Step scram(Authenticator auth, String user, String password) {
        Login login = auth.newLogin(PEER);
        ScramClient client = new ScramClient(user, password);
        Login.Step first = login.hello(AuthMechanism.SCRAM_SHA_256, client.clientFirst());
        if (!(first instanceof Login.Challenge c)) {
            return first;
        }
        byte[] clientFinal;
        try {
            clientFinal = client.clientFinal(c.data());
        } catch (ScramException e) {
            throw new AssertionError(e);
        }
        return login.auth(clientFinal);
    }
}
