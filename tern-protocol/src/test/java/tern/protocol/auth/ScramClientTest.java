package tern.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ScramClientTest {
    // RFC 7677 §3.
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static ScramClient rfcClient() {
        return new ScramClient("user", "pencil", CLIENT_NONCE, Scram.MAX_ITERATIONS);
    }

    @Test
    @Timeout(10)
    void reproducesRfc7677TestVectorExactly() {
        ScramClient c = rfcClient();
        assertThat(new String(c.clientFirst(), StandardCharsets.UTF_8)).isEqualTo(CLIENT_FIRST);
        assertThat(new String(c.clientFinal(b(SERVER_FIRST)), StandardCharsets.UTF_8)).isEqualTo(CLIENT_FINAL);
        assertThat(c.isComplete()).isFalse();
        c.verifyServerFinal(b(SERVER_FINAL));
        assertThat(c.isComplete()).isTrue();
    }

    @Test
    @Timeout(10)
    void rejectsServerSignatureOfAServerThatDoesNotKnowTheCredential() {
        ScramClient c = rfcClient();
        c.clientFirst();
        c.clientFinal(b(SERVER_FIRST));
        assertThatThrownBy(() -> c.verifyServerFinal(b("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")))
                .isInstanceOf(ScramException.class).hasMessageContaining("server signature does not verify");
        assertThat(c.isComplete()).isFalse();
    }

    @Test
    @Timeout(10)
    void reportsServerErrorAttribute() {
        ScramClient c = rfcClient();
        c.clientFirst();
        c.clientFinal(b(SERVER_FIRST));
        assertThatThrownBy(() -> c.verifyServerFinal(b("e=invalid-proof")))
                .isInstanceOf(ScramException.class).hasMessageContaining("invalid-proof");
    }

    @Test
    @Timeout(10)
    void refusesIterationCountsBelow4096AndAboveItsCeiling() {
        ScramClient low = rfcClient();
        low.clientFirst();
        assertThatThrownBy(() -> low.clientFinal(b(SERVER_FIRST.replace("i=4096", "i=4095"))))
                .isInstanceOf(ScramException.class).hasMessageContaining("4095 outside 4096");
        ScramClient capped = new ScramClient("user", "pencil", CLIENT_NONCE, 5000);
        capped.clientFirst();
        assertThatThrownBy(() -> capped.clientFinal(b(SERVER_FIRST.replace("i=4096", "i=5001"))))
                .isInstanceOf(ScramException.class).hasMessageContaining("5001 > this client's max 5000");
        ScramClient huge = rfcClient();
        huge.clientFirst();
        assertThatThrownBy(() -> huge.clientFinal(b(SERVER_FIRST.replace("i=4096", "i=99999999999"))))
                .isInstanceOf(ScramException.class);
    }

    @Test
    @Timeout(10)
    void refusesServerNonceThatDoesNotExtendTheClientNonce() {
        ScramClient c = rfcClient();
        c.clientFirst();
        assertThatThrownBy(() -> c.clientFinal(b(SERVER_FIRST.replace("rOprNG", "xOprNG"))))
                .isInstanceOf(ScramException.class).hasMessageContaining("does not extend");
        ScramClient same = rfcClient();
        same.clientFirst();
        assertThatThrownBy(() -> same.clientFinal(b("r=" + CLIENT_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")))
                .isInstanceOf(ScramException.class).hasMessageContaining("does not extend");
    }

    @Test
    @Timeout(10)
    void refusesMalformedServerFirst() {
        String[] bad = {
            "", "r=x", "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" + CLIENT_NONCE + "a,i=4096",
            SERVER_FIRST.replace("s=W22ZaJ0SNY7soEsUEjb6gQ==", "s=W22Za!!!"),
            SERVER_FIRST.replace("s=W22ZaJ0SNY7soEsUEjb6gQ==", "s="),
            SERVER_FIRST.replace("i=4096", "i=-4096"),
            SERVER_FIRST.replace("i=4096", "i=4096x"),
            SERVER_FIRST + ",x=extension",
            "m=mandatory," + SERVER_FIRST,
        };
        for (String s : bad) {
            ScramClient c = rfcClient();
            c.clientFirst();
            assertThat(catchThrowable(() -> c.clientFinal(b(s)))).as(s).isInstanceOf(ScramException.class);
        }
        ScramClient c = rfcClient();
        c.clientFirst();
        assertThat(catchThrowable(() -> c.clientFinal(new byte[] {(byte) 0xC3, 0x28})))
                .isInstanceOf(ScramException.class).hasMessageContaining("UTF-8");
        ScramClient big = rfcClient();
        big.clientFirst();
        assertThat(catchThrowable(() -> big.clientFinal(new byte[Scram.MAX_MESSAGE_BYTES + 1])))
                .isInstanceOf(ScramException.class).hasMessageContaining("> max");
    }

    @Test
    @Timeout(10)
    void callsOutOfOrderFailAndStayFailed() {
        ScramClient c = rfcClient();
        assertThatThrownBy(() -> c.clientFinal(b(SERVER_FIRST))).isInstanceOf(ScramException.class)
                .hasMessageContaining("state INITIAL");
        assertThatThrownBy(c::clientFirst).isInstanceOf(ScramException.class).hasMessageContaining("FAILED");
        ScramClient twice = rfcClient();
        twice.clientFirst();
        twice.clientFinal(b(SERVER_FIRST));
        assertThatThrownBy(() -> twice.clientFinal(b(SERVER_FIRST))).isInstanceOf(ScramException.class);
        assertThatThrownBy(() -> twice.verifyServerFinal(b(SERVER_FINAL))).isInstanceOf(ScramException.class);
    }

    @Test
    @Timeout(10)
    void escapesCommaAndEqualsInUsernames() {
        ScramClient c = new ScramClient("a=b,c", "pw", CLIENT_NONCE, Scram.MAX_ITERATIONS);
        assertThat(new String(c.clientFirst(), StandardCharsets.UTF_8)).isEqualTo("n,,n=a=3Db=2Cc,r=" + CLIENT_NONCE);
        assertThat(Scram.unescapeUsername("a=3Db=2Cc")).isEqualTo("a=b,c");
        assertThatThrownBy(() -> Scram.unescapeUsername("a=3")).isInstanceOf(ScramException.class);
        assertThatThrownBy(() -> Scram.unescapeUsername("a=41")).isInstanceOf(ScramException.class);
    }

    @Test
    @Timeout(10)
    void normalisesUsernamesAndPasswordsToNfc() {
        byte[] salt = new byte[16];
        // "é" precomposed (U+00E9) and decomposed (e + U+0301) give the same salted password.
        assertThat(Scram.saltedPassword("caf\u00e9", salt, 4096))
                .isEqualTo(Scram.saltedPassword("cafe\u0301", salt, 4096));
        ScramClient c = new ScramClient("cafe\u0301", "pw", CLIENT_NONCE, Scram.MAX_ITERATIONS);
        assertThat(new String(c.clientFirst(), StandardCharsets.UTF_8)).isEqualTo("n,,n=caf\u00e9,r=" + CLIENT_NONCE);
    }

    @Test
    @Timeout(10)
    void rejectsEmptyOrOverlongUsernamesAtConstruction() {
        assertThatThrownBy(() -> new ScramClient("", "pw")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramClient("u".repeat(Scram.MAX_USERNAME_BYTES + 1), "pw"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramClient("u", "pw", 4095)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @Timeout(10)
    void freshClientsUseFreshNonces() {
        String a = new String(new ScramClient("u", "p").clientFirst(), StandardCharsets.UTF_8);
        String b = new String(new ScramClient("u", "p").clientFirst(), StandardCharsets.UTF_8);
        assertThat(a).startsWith("n,,n=u,r=").isNotEqualTo(b);
    }

    /** Mutated server messages: only ScramException escapes, and a mutated server-final never verifies. */
    @Test
    @Timeout(60)
    void mutatedServerMessagesFailCleanly() {
        long seed = System.nanoTime();
        System.out.println("ScramClientTest.mutatedServerMessagesFailCleanly seed=" + seed);
        Random random = new Random(seed);
        for (int i = 0; i < 300; i++) {
            byte[] first = mutate(b(SERVER_FIRST), random);
            ScramClient c = rfcClient();
            c.clientFirst();
            Throwable t = catchThrowable(() -> c.clientFinal(first));
            if (t != null) {
                assertThat(t).as("seed %d case %d", seed, i).isInstanceOf(ScramException.class);
            }
            byte[] last = mutate(b(SERVER_FINAL), random);
            ScramClient d = rfcClient();
            d.clientFirst();
            d.clientFinal(b(SERVER_FIRST));
            Throwable u = catchThrowable(() -> d.verifyServerFinal(last));
            if (!java.util.Arrays.equals(last, b(SERVER_FINAL))) {
                assertThat(u).as("seed %d case %d", seed, i).isInstanceOf(ScramException.class);
            }
        }
    }

    static byte[] mutate(byte[] in, Random r) {
        byte[] out = in.clone();
        switch (r.nextInt(4)) {
            case 0 -> out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
            case 1 -> out = java.util.Arrays.copyOf(out, r.nextInt(out.length));
            case 2 -> out[r.nextInt(out.length)] = (byte) r.nextInt(256);
            default -> {
                byte[] grown = java.util.Arrays.copyOf(out, out.length + 1 + r.nextInt(8));
                for (int i = out.length; i < grown.length; i++) {
                    grown[i] = (byte) ",=pvirs0A"
                            .charAt(r.nextInt(9));
                }
                out = grown;
            }
        }
        return out;
    }
}
