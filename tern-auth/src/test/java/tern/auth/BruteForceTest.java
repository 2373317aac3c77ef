package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.auth.Scram;
import tern.protocol.auth.ScramClient;
import tern.protocol.auth.ScramException;

/**
 * 10,000 wrong-password SCRAM exchanges against a real ScramServer, in process, each with fresh
 * nonces. The server's work per attempt is a few HMACs whatever the iteration count; the attacker's
 * is one PBKDF2 per guessed password. To keep the test bounded on a loaded 2-core machine the
 * attacker here caches its PBKDF2 result per guess (as a real attacker would) and tries
 * {@link #DISTINCT_GUESSES} distinct wrong passwords {@code ATTEMPTS / DISTINCT_GUESSES} times each;
 * the credential uses the RFC minimum of 4096 iterations rather than the default 10,000 for the same
 * reason. The first {@link #FULL_CLIENT_ATTEMPTS} attempts use the real ScramClient end to end.
 */
class BruteForceTest {
    static final int ATTEMPTS = 10_000;
    static final int DISTINCT_GUESSES = 1_000;
    static final int FULL_CLIENT_ATTEMPTS = 200;
    static final String PASSWORD = "correct horse battery staple";

    @Test
    @Timeout(180)
    void tenThousandWrongPasswordsNeverAuthenticate() {
        long seed = System.nanoTime();
        System.out.println("BruteForceTest seed=" + seed);
        Random random = new Random(seed);
        UserStore users = UserStore.empty().add("alice", PASSWORD, Set.of(Role.ADMIN), Scram.MIN_ITERATIONS,
                new SecureRandom());
        LoginThrottle throttle = new LoginThrottle(() -> 0L, LoginThrottle.DEFAULT_BASE_DELAY,
                LoginThrottle.DEFAULT_MAX_DELAY, LoginThrottle.DEFAULT_FORGET_AFTER, 16);
        String[] guesses = new String[DISTINCT_GUESSES];
        for (int g = 0; g < DISTINCT_GUESSES; g++) {
            guesses[g] = "guess-" + g + "-" + Long.toHexString(random.nextLong());
        }
        Map<String, byte[]> saltedCache = new HashMap<>();
        int successes = 0;
        int failures = 0;
        for (int i = 0; i < ATTEMPTS; i++) {
            String guess = guesses[i % DISTINCT_GUESSES];
            ScramServer server = new ScramServer(users);
            try {
                if (i < FULL_CLIENT_ATTEMPTS) {
                    ScramClient client = new ScramClient("alice", guess);
                    client.verifyServerFinal(
                            server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst()))));
                } else {
                    attack(server, guess, random, saltedCache);
                }
                successes++;
            } catch (ScramException e) {
                failures++;
                throttle.onFailure("198.51.100.7");
            }
            assertThat(server.isComplete()).isFalse();
        }
        System.out.printf("BruteForceTest: %d attempts (%d distinct wrong passwords), %d successes, %d failures,"
                + " throttle delay now %s%n", ATTEMPTS, DISTINCT_GUESSES, successes, failures,
                throttle.remainingDelay("198.51.100.7"));
        assertThat(successes).isZero();
        assertThat(failures).isEqualTo(ATTEMPTS);
        assertThat(throttle.remainingDelay("198.51.100.7")).isEqualTo(LoginThrottle.DEFAULT_MAX_DELAY);
        // The same attacker code does get in with the right password: the zero above is not vacuous.
        ScramServer server = new ScramServer(users);
        attack(server, PASSWORD, random, new HashMap<>());
        assertThat(server.isComplete()).isTrue();
    }

    /** An independent client: RFC 5802 written out from the primitives, PBKDF2 cached per password and salt. */
    static void attack(ScramServer server, String password, Random random, Map<String, byte[]> saltedCache) {
        String clientNonce = Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong());
        String bare = "n=alice,r=" + clientNonce;
        String serverFirst = new String(server.serverFirst(("n,," + bare).getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        String[] parts = serverFirst.split(",");
        String nonce = parts[0].substring(2);
        byte[] salt = Base64.getDecoder().decode(parts[1].substring(2));
        int iterations = Integer.parseInt(parts[2].substring(2));
        byte[] salted = saltedCache.computeIfAbsent(password + "\0" + parts[1],
                k -> Scram.saltedPassword(password, salt, iterations));
        String withoutProof = "c=biws,r=" + nonce;
        byte[] authMessage = (bare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] clientKey = Scram.clientKey(salted);
        byte[] proof = Scram.xor(clientKey, Scram.hmac(Scram.storedKey(clientKey), authMessage));
        server.serverFinal((withoutProof + ",p=" + Scram.base64(proof)).getBytes(StandardCharsets.UTF_8));
    }
}
