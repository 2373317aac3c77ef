package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.auth.Scram;
import tern.protocol.auth.ScramClient;
import tern.protocol.auth.ScramException;

/**
 * 10,000 wrong-password SCRAM exchanges against a real ScramServer, in process. The credential uses
 * the RFC minimum of 4096 iterations rather than the default 10,000 so the attacker's side (one
 * PBKDF2 per guess, about 1.5 ms) fits in roughly 15-30 s; the server's work per attempt does not
 * depend on the count.
 */
class BruteForceTest {
    static final int ATTEMPTS = 10_000;

    @Test
    @Timeout(180)
    void tenThousandWrongPasswordsNeverAuthenticate() {
        long seed = System.nanoTime();
        System.out.println("BruteForceTest seed=" + seed);
        Random random = new Random(seed);
        UserStore users = UserStore.empty().add("alice", "correct horse battery staple", Set.of(Role.ADMIN),
                Scram.MIN_ITERATIONS, new SecureRandom());
        LoginThrottle throttle = new LoginThrottle(() -> 0L, LoginThrottle.DEFAULT_BASE_DELAY,
                LoginThrottle.DEFAULT_MAX_DELAY, LoginThrottle.DEFAULT_FORGET_AFTER, 16);
        int successes = 0;
        int failures = 0;
        for (int i = 0; i < ATTEMPTS; i++) {
            String guess = "guess-" + Long.toHexString(random.nextLong());
            ScramServer server = new ScramServer(users);
            ScramClient client = new ScramClient("alice", guess);
            try {
                byte[] last = server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst())));
                client.verifyServerFinal(last);
                successes++;
            } catch (ScramException e) {
                failures++;
                throttle.onFailure("198.51.100.7");
            }
            assertThat(server.isComplete()).isFalse();
        }
        System.out.printf("BruteForceTest: %d attempts, %d successes, %d failures, throttle delay now %s%n",
                ATTEMPTS, successes, failures, throttle.remainingDelay("198.51.100.7"));
        assertThat(successes).isZero();
        assertThat(failures).isEqualTo(ATTEMPTS);
        assertThat(throttle.remainingDelay("198.51.100.7")).isEqualTo(LoginThrottle.DEFAULT_MAX_DELAY);
        // The same harness does succeed with the right password: the zero above is not vacuous.
        ScramServer server = new ScramServer(users);
        ScramClient client = new ScramClient("alice", "correct horse battery staple");
        client.verifyServerFinal(server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst()))));
        assertThat(server.isComplete()).isTrue();
    }
}
