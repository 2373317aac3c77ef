package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.auth.Scram;
import tern.protocol.auth.ScramClient;
import tern.protocol.auth.ScramException;

class ScramServerTest {
    // RFC 7677 §3.
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final String SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    static final UserStore RFC_USERS = UserStore.empty().put(User.named("user")
            .withScram(ScramCredential.derive("pencil", Base64.getDecoder().decode(SALT), 4096))
            .withRoles(Set.of(Role.PRODUCER)));

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static ScramServer rfcServer() {
        return new ScramServer(RFC_USERS, SERVER_NONCE);
    }

    @Test
    @Timeout(10)
    void reproducesRfc7677TestVectorExactly() {
        ScramServer server = rfcServer();
        assertThat(s(server.serverFirst(b(CLIENT_FIRST)))).isEqualTo(SERVER_FIRST);
        assertThat(s(server.serverFinal(b(CLIENT_FINAL)))).isEqualTo(SERVER_FINAL);
        assertThat(server.isComplete()).isTrue();
        assertThat(server.user().name()).isEqualTo("user");
    }

    static UserStore aliceStore() {
        return UserStore.empty().add("alice", "s3cret", Set.of(Role.CONSUMER), 4096, new SecureRandom());
    }

    /** Runs a whole exchange; returns null on success or the failure. */
    static Throwable exchange(UserStore users, String name, String password) {
        ScramServer server = new ScramServer(users);
        ScramClient client = new ScramClient(name, password);
        return catchThrowable(() -> {
            byte[] first = server.serverFirst(client.clientFirst());
            byte[] last = server.serverFinal(client.clientFinal(first));
            client.verifyServerFinal(last);
        });
    }

    @Test
    @Timeout(10)
    void clientAndServerAgreeAndBothProveThemselves() {
        UserStore users = aliceStore();
        ScramServer server = new ScramServer(users);
        ScramClient client = new ScramClient("alice", "s3cret");
        byte[] last = server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst())));
        client.verifyServerFinal(last);
        assertThat(client.isComplete()).isTrue();
        assertThat(server.user().roles()).containsExactly(Role.CONSUMER);
    }

    @Test
    @Timeout(10)
    void wrongPasswordFailsWithTheSameReasonAsAnUnknownUser() {
        UserStore users = aliceStore();
        Throwable wrong = exchange(users, "alice", "guess");
        Throwable unknown = exchange(users, "mallory", "guess");
        assertThat(wrong).isInstanceOf(ScramException.class);
        assertThat(unknown).isInstanceOf(ScramException.class);
        assertThat(unknown.getMessage()).isEqualTo(wrong.getMessage());
        assertThatThrownBy(() -> new ScramServer(users).user()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    @Timeout(10)
    void unknownUserGetsAStableFakeChallengeShapedLikeARealOne() {
        UserStore users = aliceStore();
        String real = s(new ScramServer(users).serverFirst(b("n,,n=alice,r=abc")));
        String fake1 = s(new ScramServer(users).serverFirst(b("n,,n=mallory,r=abc")));
        String fake2 = s(new ScramServer(users).serverFirst(b("n,,n=mallory,r=abc")));
        String other = s(new ScramServer(users).serverFirst(b("n,,n=trudy,r=abc")));
        // Same iterations and salt length as the real user; the fake salt is stable per name.
        assertThat(fake1.replaceAll("r=[^,]*,s=[^,]*", "")).isEqualTo(real.replaceAll("r=[^,]*,s=[^,]*", ""));
        assertThat(salt(fake1)).hasSize(salt(real).length).isEqualTo(salt(fake2)).isNotEqualTo(salt(other));
        assertThat(fake1).endsWith(",i=4096");
    }

    @Test
    @Timeout(10)
    void fakeSaltSurvivesSaveAndLoadSoRestartsDoNotRevealUnknownUsers() throws Exception {
        UserStore users = aliceStore();
        UserStore reloaded = UserStore.parse(users.format(), "mem");
        assertThat(salt(s(new ScramServer(reloaded).serverFirst(b("n,,n=mallory,r=abc")))))
                .isEqualTo(salt(s(new ScramServer(users).serverFirst(b("n,,n=mallory,r=abc")))));
    }

    static byte[] salt(String serverFirst) {
        return Base64.getDecoder().decode(serverFirst.split(",")[1].substring(2));
    }

    @Test
    @Timeout(10)
    void tamperedProofFails() {
        ScramServer server = rfcServer();
        server.serverFirst(b(CLIENT_FIRST));
        String tampered = CLIENT_FINAL.replace("p=dHzb", "p=dHzc");
        assertThatThrownBy(() -> server.serverFinal(b(tampered))).isInstanceOf(ScramException.class)
                .hasMessageContaining("proof does not verify");
        assertThat(server.isComplete()).isFalse();
    }

    @Test
    @Timeout(10)
    void wrongNonceFails() {
        ScramServer server = rfcServer();
        server.serverFirst(b(CLIENT_FIRST));
        assertThatThrownBy(() -> server.serverFinal(b(CLIENT_FINAL.replace("hNlF$k0", "hNlF$k1"))))
                .isInstanceOf(ScramException.class).hasMessageContaining("nonce does not match");
    }

    @Test
    @Timeout(10)
    void replayedClientFinalFailsAgainstAFreshServerNonce() {
        UserStore users = aliceStore();
        ScramServer first = new ScramServer(users);
        ScramClient client = new ScramClient("alice", "s3cret");
        byte[] clientFirst = client.clientFirst();
        byte[] clientFinal = client.clientFinal(first.serverFirst(clientFirst));
        first.serverFinal(clientFinal);
        // An eavesdropper replays both client messages to a new exchange.
        ScramServer second = new ScramServer(users);
        second.serverFirst(clientFirst);
        assertThatThrownBy(() -> second.serverFinal(clientFinal)).isInstanceOf(ScramException.class)
                .hasMessageContaining("replayed");
        // And a finished exchange accepts nothing more.
        assertThatThrownBy(() -> first.serverFinal(clientFinal)).isInstanceOf(ScramException.class)
                .hasMessageContaining("state DONE");
    }

    @Test
    @Timeout(10)
    void channelBindingFlagsAreCheckedAndMustBeRepeated() {
        assertThatThrownBy(() -> rfcServer().serverFirst(b("p=tls-unique,,n=user,r=abc")))
                .isInstanceOf(ScramException.class).hasMessageContaining("channel binding requested");
        assertThatThrownBy(() -> rfcServer().serverFirst(b("q,,n=user,r=abc")))
                .isInstanceOf(ScramException.class).hasMessageContaining("channel-binding flag");
        assertThatThrownBy(() -> rfcServer().serverFirst(b("n,a=admin,n=user,r=abc")))
                .isInstanceOf(ScramException.class).hasMessageContaining("authorization identity");
        // 'y' (client could bind, thinks we cannot) is accepted, and c= must then repeat "y,,".
        ScramServer y = rfcServer();
        y.serverFirst(b("y,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
        assertThatThrownBy(() -> y.serverFinal(b(CLIENT_FINAL))).isInstanceOf(ScramException.class)
                .hasMessageContaining("c= does not repeat");
    }

    @Test
    @Timeout(10)
    void malformedClientMessagesFailWithAReason() {
        String[] badFirst = {"", "n,,", "n,,r=abc", "n,,n=user", "n,,n=user,r=", "n,,n=,r=abc", "n,,n=us=er,r=abc",
            "n,,m=ext,n=user,r=abc", "n,,n=user,r=abc,x=1", "n,,n=user,r=a b", "n", "n,"};
        for (String m : badFirst) {
            assertThat(catchThrowable(() -> rfcServer().serverFirst(b(m)))).as(m)
                    .isInstanceOf(ScramException.class).hasMessageNotContaining("null");
        }
        String[] badFinal = {"", "c=biws", "c=biws,r=x", CLIENT_FINAL.replace("p=dHzb", "p=!Hzb"),
            CLIENT_FINAL.replace("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "p="),
            CLIENT_FINAL.replace("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "p=AAAA"),
            CLIENT_FINAL.replace("c=biws", "c=bmlz"), CLIENT_FINAL.replace("c=biws", "c=@@@"),
            CLIENT_FINAL + ",x=1", CLIENT_FINAL.replace(",p=", ",q=")};
        for (String m : badFinal) {
            ScramServer server = rfcServer();
            server.serverFirst(b(CLIENT_FIRST));
            assertThat(catchThrowable(() -> server.serverFinal(b(m)))).as(m).isInstanceOf(ScramException.class);
        }
        assertThat(catchThrowable(() -> rfcServer().serverFirst(null))).isInstanceOf(ScramException.class);
        assertThat(catchThrowable(() -> rfcServer().serverFirst(new byte[] {(byte) 0xFF})))
                .isInstanceOf(ScramException.class).hasMessageContaining("UTF-8");
        assertThat(catchThrowable(() -> rfcServer().serverFirst(new byte[Scram.MAX_MESSAGE_BYTES + 1])))
                .isInstanceOf(ScramException.class).hasMessageContaining("> max");
    }

    @Test
    @Timeout(10)
    void outOfOrderMessagesFailAndTheExchangeStaysFailed() {
        ScramServer server = rfcServer();
        assertThatThrownBy(() -> server.serverFinal(b(CLIENT_FINAL))).isInstanceOf(ScramException.class);
        assertThatThrownBy(() -> server.serverFirst(b(CLIENT_FIRST))).isInstanceOf(ScramException.class)
                .hasMessageContaining("FAILED");
        ScramServer failed = rfcServer();
        failed.serverFirst(b(CLIENT_FIRST));
        assertThatThrownBy(() -> failed.serverFinal(b(CLIENT_FINAL.replace("p=dHzb", "p=dHzc"))))
                .isInstanceOf(ScramException.class);
        assertThatThrownBy(() -> failed.serverFinal(b(CLIENT_FINAL))).isInstanceOf(ScramException.class)
                .hasMessageContaining("FAILED");
    }

    @Test
    @Timeout(10)
    void userWithoutPasswordCannotLogInWithScram() {
        UserStore users = UserStore.empty().put(User.named("bot").withToken("tern_x"));
        assertThat(exchange(users, "bot", "")).isInstanceOf(ScramException.class);
        assertThat(exchange(users, "bot", "tern_x")).isInstanceOf(ScramException.class);
    }

    @Test
    @Timeout(10)
    void escapedAndUnicodeUsernamesAuthenticate() {
        UserStore users = UserStore.empty()
                .add("a=b,c", "pw", Set.of(), 4096, new SecureRandom())
                .add("caf\u00e9", "p\u00e4ss", Set.of(), 4096, new SecureRandom());
        assertThat(exchange(users, "a=b,c", "pw")).isNull();
        assertThat(exchange(users, "cafe\u0301", "pa\u0308ss")).isNull();
    }
}
