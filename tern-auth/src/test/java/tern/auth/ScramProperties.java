package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import tern.protocol.auth.ScramClient;
import tern.protocol.auth.ScramException;

/**
 * Mutated SCRAM messages (bit flips, truncation, splices of SCRAM syntax, random bytes): only
 * ScramException escapes either side, and no mutation of a client-final ever authenticates.
 * ({@link PropertyTimeout} stands in for JUnit's @Timeout, which jqwik does not honour.)
 */
class ScramProperties {
    static final String CLIENT_FIRST = ScramServerTest.CLIENT_FIRST;
    static final String CLIENT_FINAL = ScramServerTest.CLIENT_FINAL;

    record Mutation(int kind, int position, int value, String splice) {
        byte[] apply(byte[] in) {
            byte[] out = in.clone();
            if (out.length == 0 && (kind == 0 || kind == 2)) {
                return out;
            }
            int at = Math.floorMod(position, Math.max(1, out.length));
            switch (kind) {
                case 0 -> out[at] ^= (byte) (1 << (value & 7));
                case 1 -> out = Arrays.copyOf(out, at);
                case 2 -> out[at] = (byte) value;
                case 3 -> {
                    byte[] s = splice.getBytes(StandardCharsets.UTF_8);
                    byte[] grown = new byte[out.length + s.length];
                    System.arraycopy(out, 0, grown, 0, at);
                    System.arraycopy(s, 0, grown, at, s.length);
                    System.arraycopy(out, at, grown, at + s.length, out.length - at);
                    out = grown;
                }
                default -> {
                    byte[] s = splice.getBytes(StandardCharsets.UTF_8);
                    int end = Math.min(out.length, at + 1 + (value & 15));
                    byte[] replaced = new byte[at + s.length + out.length - end];
                    System.arraycopy(out, 0, replaced, 0, at);
                    System.arraycopy(s, 0, replaced, at, s.length);
                    System.arraycopy(out, end, replaced, at + s.length, out.length - end);
                    out = replaced;
                }
            }
            return out;
        }
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<String> splices = Arbitraries.of(",", "=", "n=", "r=", "p=", "c=", "=3D", "=2C", "=", ",,", "y,,",
                "p=tls,", "a=x,", "m=x,", "\u0000", "\u00e9", "\uFFFF", "====", "biws");
        Arbitrary<Mutation> one = Combinators.combine(Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 200), Arbitraries.integers().between(0, 255), splices)
                .as(Mutation::new);
        return one.list().ofMinSize(1).ofMaxSize(4);
    }

    static byte[] mutate(byte[] in, List<Mutation> ms) {
        byte[] out = in;
        for (Mutation m : ms) {
            out = m.apply(out);
        }
        return out;
    }

    @Property(tries = 500)
    @PropertyTimeout(seconds = 120)
    void mutatedClientFirstFailsCleanlyOrIsAnsweredNormally(@ForAll("mutations") List<Mutation> ms) {
        byte[] first = mutate(ScramServerTest.b(CLIENT_FIRST), ms);
        Throwable t = catchThrowable(() -> ScramServerTest.rfcServer().serverFirst(first));
        if (t != null) {
            assertThat(t).isInstanceOf(ScramException.class);
        }
    }

    @Property(tries = 500)
    @PropertyTimeout(seconds = 120)
    void mutatedClientFinalNeverAuthenticates(@ForAll("mutations") List<Mutation> ms) {
        byte[] last = mutate(ScramServerTest.b(CLIENT_FINAL), ms);
        ScramServer server = ScramServerTest.rfcServer();
        server.serverFirst(ScramServerTest.b(CLIENT_FIRST));
        Throwable t = catchThrowable(() -> server.serverFinal(last));
        if (Arrays.equals(last, ScramServerTest.b(CLIENT_FINAL))) {
            assertThat(t).isNull();
        } else {
            assertThat(t).isInstanceOf(ScramException.class);
            assertThat(server.isComplete()).isFalse();
        }
    }

    @Property(tries = 200)
    @PropertyTimeout(seconds = 120)
    void mutatedServerMessagesNeverLetTheClientComplete(@ForAll("mutations") List<Mutation> ms) {
        ScramClient client = new ScramClient("user", "pencil");
        ScramServer server = new ScramServer(ScramServerTest.RFC_USERS);
        byte[] serverFirst = server.serverFirst(client.clientFirst());
        byte[] mutatedFirst = mutate(serverFirst, ms);
        Throwable t = catchThrowable(() -> {
            byte[] clientFinal = client.clientFinal(mutatedFirst);
            client.verifyServerFinal(server.serverFinal(clientFinal));
        });
        if (Arrays.equals(mutatedFirst, serverFirst)) {
            assertThat(t).isNull();
        } else if (t != null) {
            assertThat(t).isInstanceOf(ScramException.class);
        }
        // A changed server-first changes the AuthMessage: the server must refuse the proof.
        if (!Arrays.equals(mutatedFirst, serverFirst)) {
            assertThat(server.isComplete()).isFalse();
            assertThat(client.isComplete()).isFalse();
        }
    }
}
