package tern.peers;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Counts one subscriber's deliveries (W1, W2). Called from one client delivery thread; read from the
 * driver thread. The arrival time is sampled every 1024 messages and at the expected count, so the
 * clock is not read per message.
 */
final class DeliveryCounter implements IntConsumer {
    private static final int CLOCK_SAMPLE_MASK = 1023;

    private final long expected;
    private final int payloadBytes;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong wrongSize = new AtomicLong();
    private volatile long lastNanos;
    private long seen;

    DeliveryCounter(long expected, int payloadBytes) {
        this.expected = expected;
        this.payloadBytes = payloadBytes;
    }

    @Override
    public void accept(int length) {
        if (length != payloadBytes) {
            wrongSize.incrementAndGet();
        }
        long n = ++seen;
        if ((n & CLOCK_SAMPLE_MASK) == 0 || n == expected) {
            lastNanos = System.nanoTime();
        }
        count.lazySet(n);
    }

    long count() {
        return count.get();
    }

    long wrongSize() {
        return wrongSize.get();
    }

    /** nanoTime of the last sampled arrival (exact for the expected-th message), or 0. */
    long lastNanos() {
        return lastNanos;
    }

    boolean done() {
        return count.get() >= expected;
    }
}
