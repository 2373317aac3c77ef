package tern.broker.guard;

/**
 * Bounds how many lines a flood of hostile connections can write to the log: at most
 * {@code perSecond} lines per second (a token bucket holding one second's worth); the rest are
 * counted and the next line logged says how many were left out. Thread-safe.
 */
public final class LogLimiter {
    private static final long SECOND_NANOS = 1_000_000_000L;

    private final int perSecond;
    private double tokens;
    private long refilledNanos = System.nanoTime();
    private long suppressed;

    public LogLimiter(int perSecond) {
        if (perSecond < 1) {
            throw new IllegalArgumentException("perSecond " + perSecond + " < 1");
        }
        this.perSecond = perSecond;
        this.tokens = perSecond;
    }

    /**
     * Null when this line must be left out; otherwise the text to append to it: empty, or
     * " (N similar lines left out)".
     */
    public synchronized String admit() {
        long now = System.nanoTime();
        tokens = Math.min(perSecond, tokens + (now - refilledNanos) * (double) perSecond / SECOND_NANOS);
        refilledNanos = now;
        if (tokens < 1) {
            suppressed++;
            return null;
        }
        tokens -= 1;
        long left = suppressed;
        suppressed = 0;
        return left == 0 ? "" : " (" + left + " similar lines left out)";
    }
}
