package tern.auth;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Slows password guessing per remote address. After the n-th consecutive failure from an address the
 * broker holds its AUTH_FAILED answer for {@code min(baseDelay * 2^(n-1), maxDelay)}; an address still
 * inside that penalty when it tries again waits out {@link #remainingDelay} before its attempt is read.
 * A success clears the address. Entries are forgotten {@code forgetAfter} after their last failure.
 *
 * <p>Memory is bounded: at most {@code maxAddresses} entries (default
 * {@link #DEFAULT_MAX_ADDRESSES}); when full, the least recently failed address is evicted (it
 * restarts at baseDelay). Thread-safe (one lock; called once per failed login, never per message).
 * The clock is injected (nanoseconds, monotonic) so tests drive time by hand.
 */
public final class LoginThrottle {
    public static final Duration DEFAULT_BASE_DELAY = Duration.ofMillis(100);
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(10);
    public static final Duration DEFAULT_FORGET_AFTER = Duration.ofMinutes(15);
    public static final int DEFAULT_MAX_ADDRESSES = 10_000;
    /** The doubling stops here (2^20 * base is beyond any sane cap). */
    private static final int MAX_SHIFT = 20;

    private static final class Entry {
        int failures;
        long lastFailureNanos;
        long penaltyEndsNanos;
    }

    private final LongSupplier nanoClock;
    private final long baseNanos;
    private final long maxNanos;
    private final long forgetNanos;
    private final int maxAddresses;
    private final LinkedHashMap<String, Entry> entries;

    /** Defaults on the system's monotonic clock. */
    public LoginThrottle() {
        this(System::nanoTime, DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY, DEFAULT_FORGET_AFTER, DEFAULT_MAX_ADDRESSES);
    }

    /**
     * @param nanoClock    monotonic nanoseconds (System::nanoTime in production)
     * @param baseDelay    delay after the first failure, at least 100 ms
     * @param maxDelay     cap, at least baseDelay
     * @param forgetAfter  an address with no failure for this long starts over
     * @param maxAddresses most addresses remembered
     */
    public LoginThrottle(LongSupplier nanoClock, Duration baseDelay, Duration maxDelay, Duration forgetAfter,
                         int maxAddresses) {
        this.nanoClock = Objects.requireNonNull(nanoClock);
        if (baseDelay.compareTo(DEFAULT_BASE_DELAY) < 0) {
            throw new IllegalArgumentException("baseDelay " + baseDelay + " < " + DEFAULT_BASE_DELAY);
        }
        if (maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException("maxDelay " + maxDelay + " < baseDelay " + baseDelay);
        }
        if (forgetAfter.compareTo(maxDelay) < 0) {
            throw new IllegalArgumentException("forgetAfter " + forgetAfter + " < maxDelay " + maxDelay);
        }
        if (maxAddresses < 1) {
            throw new IllegalArgumentException("maxAddresses " + maxAddresses + " < 1");
        }
        this.baseNanos = baseDelay.toNanos();
        this.maxNanos = maxDelay.toNanos();
        this.forgetNanos = forgetAfter.toNanos();
        this.maxAddresses = maxAddresses;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > LoginThrottle.this.maxAddresses;
            }
        };
    }

    /**
     * Records a failed authentication from address and returns how long to hold the AUTH_FAILED
     * answer: at least baseDelay, doubling per consecutive failure, at most maxDelay.
     */
    public synchronized Duration onFailure(String address) {
        long now = nanoClock.getAsLong();
        Entry e = live(address, now);
        if (e == null) {
            e = new Entry();
            entries.put(address, e);
        }
        e.failures = Math.min(e.failures + 1, MAX_SHIFT + 1);
        e.lastFailureNanos = now;
        long delay = Math.min(maxNanos, baseNanos << (e.failures - 1));
        e.penaltyEndsNanos = now + delay;
        return Duration.ofNanos(delay);
    }

    /** Clears the address after a successful authentication. */
    public synchronized void onSuccess(String address) {
        entries.remove(address);
    }

    /** How long a new attempt from address must wait before it is read; zero when not penalised. */
    public synchronized Duration remainingDelay(String address) {
        long now = nanoClock.getAsLong();
        Entry e = live(address, now);
        return e == null ? Duration.ZERO : Duration.ofNanos(Math.max(0, e.penaltyEndsNanos - now));
    }

    /** Consecutive failures remembered for address (0 when forgotten or unknown). */
    public synchronized int failures(String address) {
        Entry e = live(address, nanoClock.getAsLong());
        return e == null ? 0 : e.failures;
    }

    /** Addresses currently remembered (at most maxAddresses). */
    public synchronized int size() {
        return entries.size();
    }

    private Entry live(String address, long now) {
        Entry e = entries.get(address);
        if (e != null && now - e.lastFailureNanos >= forgetNanos) {
            entries.remove(address);
            return null;
        }
        return e;
    }
}
