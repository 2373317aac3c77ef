package tern.peers;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The confirm latencies of one W4 run, from each message's latency origin ({@link Pacer#origin}) to its confirm:
 * all of them; those of messages whose origin is at least {@code settleNanos} after the run started (the
 * "settled" figure, which leaves out a fresh queue's first moments); and the worst latency per
 * {@link #BUCKET_NANOS} of origin time (the timeline, option {@code --timeline}), which shows when a tail happened:
 * at the start, periodically, or throughout. Thread-safe: targets record from their clients' threads.
 */
final class ConfirmLatency {
    static final long BUCKET_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long HIGHEST = TimeUnit.SECONDS.toNanos(60);
    /** Timeline length: ten minutes of origin time; later origins fall into the last bucket. */
    private static final int BUCKETS = 60_000;

    private final long settleNanos;
    private final Histogram all = new Histogram(HIGHEST, 3);
    private final Histogram settled = new Histogram(HIGHEST, 3);
    private final long[] worst = new long[BUCKETS];
    private long startNanos;
    private long startEpochMillis;
    private int lastBucket = -1;

    /** @param settleNanos origins earlier than this after {@link #start} count in all figures but the settled one */
    ConfirmLatency(long settleNanos) {
        this.settleNanos = settleNanos;
    }

    /** Call once, when the first message's clock starts (with {@link Pacer#start}). */
    synchronized void start(long nowNanos) {
        startNanos = nowNanos;
        startEpochMillis = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nowNanos);
    }

    /** Wall-clock time of {@link #start}, to line the timeline up with broker logs. */
    synchronized long startEpochMillis() {
        return startEpochMillis;
    }

    /** One confirm that arrived at nowNanos for a message whose latency origin is originNanos. */
    synchronized void record(long originNanos, long nowNanos) {
        long v = Math.min(Math.max(0, nowNanos - originNanos), HIGHEST);
        all.recordValue(v);
        long sinceStart = originNanos - startNanos;
        if (sinceStart >= settleNanos) {
            settled.recordValue(v);
        }
        int b = (int) Math.min(BUCKETS - 1, Math.max(0, sinceStart / BUCKET_NANOS));
        worst[b] = Math.max(worst[b], v);
        lastBucket = Math.max(lastBucket, b);
    }

    synchronized Histogram all() {
        return all.copy();
    }

    /** Latencies of messages due at least settleNanos after the start; empty if the run was shorter. */
    synchronized Histogram settled() {
        return settled.copy();
    }

    /** The worst latency (nanoseconds) per bucket of origin time, up to the last bucket that saw a confirm. */
    synchronized long[] timeline() {
        return Arrays.copyOf(worst, lastBucket + 1);
    }
}
