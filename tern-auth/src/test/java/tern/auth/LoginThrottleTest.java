package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LoginThrottleTest {
    final AtomicLong now = new AtomicLong(1_000_000_000L);

    LoginThrottle throttle(int maxAddresses) {
        return new LoginThrottle(now::get, Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofMinutes(10),
                maxAddresses);
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    @Timeout(10)
    void delayStartsAt100msDoublesAndIsCapped() {
        LoginThrottle t = throttle(100);
        assertThat(t.remainingDelay("10.0.0.1")).isZero();
        assertThat(t.onFailure("10.0.0.1")).isEqualTo(Duration.ofMillis(100));
        assertThat(t.onFailure("10.0.0.1")).isEqualTo(Duration.ofMillis(200));
        assertThat(t.onFailure("10.0.0.1")).isEqualTo(Duration.ofMillis(400));
        for (int i = 0; i < 50; i++) {
            assertThat(t.onFailure("10.0.0.1")).isLessThanOrEqualTo(Duration.ofSeconds(5));
        }
        assertThat(t.onFailure("10.0.0.1")).isEqualTo(Duration.ofSeconds(5));
        // Other addresses are not affected.
        assertThat(t.onFailure("10.0.0.2")).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    @Timeout(10)
    void remainingDelayCountsDownWithTheClock() {
        LoginThrottle t = throttle(100);
        t.onFailure("a");
        t.onFailure("a");
        assertThat(t.remainingDelay("a")).isEqualTo(Duration.ofMillis(200));
        advance(Duration.ofMillis(150));
        assertThat(t.remainingDelay("a")).isEqualTo(Duration.ofMillis(50));
        advance(Duration.ofMillis(60));
        assertThat(t.remainingDelay("a")).isZero();
        // The failure count is still remembered: the next failure waits longer.
        assertThat(t.onFailure("a")).isEqualTo(Duration.ofMillis(400));
    }

    @Test
    @Timeout(10)
    void successClearsAndQuietAddressesAreForgotten() {
        LoginThrottle t = throttle(100);
        t.onFailure("a");
        t.onFailure("a");
        t.onSuccess("a");
        assertThat(t.failures("a")).isZero();
        assertThat(t.onFailure("a")).isEqualTo(Duration.ofMillis(100));
        t.onFailure("b");
        t.onFailure("b");
        advance(Duration.ofMinutes(10));
        assertThat(t.failures("b")).isZero();
        assertThat(t.onFailure("b")).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    @Timeout(10)
    void memoryIsBoundedByMaxAddressesEvictingTheLeastRecent() {
        LoginThrottle t = throttle(3);
        t.onFailure("a");
        t.onFailure("a");
        t.onFailure("b");
        t.onFailure("c");
        t.onFailure("a"); // a is now the most recent
        for (int i = 0; i < 10_000; i++) {
            t.onFailure("attacker-" + i);
            assertThat(t.size()).isLessThanOrEqualTo(3);
        }
        assertThat(t.size()).isEqualTo(3);
        assertThat(t.failures("a")).isZero();
        assertThat(t.failures("attacker-9999")).isEqualTo(1);
    }

    @Test
    @Timeout(10)
    void refusesConfigurationsBelowTheFloor() {
        assertThatThrownBy(() -> new LoginThrottle(now::get, Duration.ofMillis(99), Duration.ofSeconds(1),
                Duration.ofMinutes(1), 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LoginThrottle(now::get, Duration.ofMillis(100), Duration.ofMillis(50),
                Duration.ofMinutes(1), 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LoginThrottle(now::get, Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofMinutes(1), 0)).isInstanceOf(IllegalArgumentException.class);
        LoginThrottle defaults = new LoginThrottle();
        assertThat(defaults.onFailure("x")).isEqualTo(LoginThrottle.DEFAULT_BASE_DELAY);
    }
}
