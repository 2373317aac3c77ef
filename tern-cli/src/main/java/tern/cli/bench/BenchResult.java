package tern.cli.bench;

import java.util.Locale;

/**
 * One measured run. Rates are per second; MB is 10^6 payload bytes. For pubsub and fanout,
 * {@code rate} is deliveries/s summed over subscribers and {@code publishRate} the publisher's
 * msgs/s; for reqrep both are round trips/s and the latencies are set.
 */
record BenchResult(Workload workload, int run, long msgs, int sizeBytes, int subs, double elapsedSeconds,
                   double rate, double publishRate, long expected, long delivered, long dropped, long wrongSize,
                   Latency latency) {

    /** Latency percentiles in microseconds. */
    record Latency(double p50, double p90, double p99, double p999, double max, double mean) {
    }

    long lost() {
        return Math.max(0, expected - delivered);
    }

    double megabytesPerSecond(double msgsPerSecond) {
        return msgsPerSecond * sizeBytes / 1e6;
    }

    /** The human-readable lines for stdout. */
    String describe() {
        StringBuilder s = new StringBuilder();
        if (workload == Workload.QUEUE) {
            s.append(String.format(Locale.ROOT, "  confirmed %,14.0f msgs/s %9.1f MB/s  (publish to fsynced confirm)%n",
                    publishRate, megabytesPerSecond(publishRate)));
            s.append(String.format(Locale.ROOT, "  acked     %,14.0f msgs/s %9.1f MB/s  (end to end, %s)%n",
                    rate, megabytesPerSecond(rate), subs == 1 ? "1 consumer" : subs + " consumers"));
            s.append(String.format(Locale.ROOT,
                    "  confirm latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (mean %.1f)%n",
                    latency.p50, latency.p90, latency.p99, latency.p999, latency.max, latency.mean));
            s.append(String.format(Locale.ROOT, "  consumed %,d of %,d confirmed in %.3f s, lost %,d, redelivered %,d%s%n",
                    delivered, expected, elapsedSeconds, lost(), dropped,
                    wrongSize > 0 ? ", wrong size " + wrongSize : ""));
            return s.toString();
        }
        if (workload == Workload.REQREP) {
            s.append(String.format(Locale.ROOT, "  %,.0f round trips/s (%.1f MB/s each way)%n",
                    rate, megabytesPerSecond(rate)));
            s.append(String.format(Locale.ROOT,
                    "  latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (mean %.1f)%n",
                    latency.p50, latency.p90, latency.p99, latency.p999, latency.max, latency.mean));
        } else {
            s.append(String.format(Locale.ROOT, "  published %,14.0f msgs/s %9.1f MB/s%n",
                    publishRate, megabytesPerSecond(publishRate)));
            s.append(String.format(Locale.ROOT, "  delivered %,14.0f msgs/s %9.1f MB/s  (%s)%n",
                    rate, megabytesPerSecond(rate),
                    subs == 1 ? "1 subscriber" : "aggregate over " + subs + " subscribers"));
        }
        s.append(String.format(Locale.ROOT, "  %s %,d of %,d in %.3f s, lost %,d%s%s%n",
                workload == Workload.REQREP ? "replies" : "deliveries", delivered, expected, elapsedSeconds,
                lost(), dropped > 0 ? ", broker dropped " + dropped : "",
                wrongSize > 0 ? ", wrong size " + wrongSize : ""));
        return s.toString();
    }

    /** One machine-readable line: RESULT key=value ... */
    String resultLine() {
        StringBuilder s = new StringBuilder("RESULT");
        kv(s, "workload", workload.id());
        kv(s, "run", run);
        kv(s, "msgs", msgs);
        kv(s, "size", sizeBytes);
        kv(s, "subs", subs);
        kv(s, "rate", Math.round(rate));
        kv(s, "mb_s", String.format(Locale.ROOT, "%.1f", megabytesPerSecond(rate)));
        if (workload == Workload.QUEUE) {
            kv(s, "pub_rate", Math.round(publishRate));
            kv(s, "pub_mb_s", String.format(Locale.ROOT, "%.1f", megabytesPerSecond(publishRate)));
        }
        if (workload == Workload.REQREP || workload == Workload.QUEUE) {
            kv(s, "p50_us", us(latency.p50));
            kv(s, "p90_us", us(latency.p90));
            kv(s, "p99_us", us(latency.p99));
            kv(s, "p999_us", us(latency.p999));
            kv(s, "max_us", us(latency.max));
        } else {
            kv(s, "pub_rate", Math.round(publishRate));
            kv(s, "pub_mb_s", String.format(Locale.ROOT, "%.1f", megabytesPerSecond(publishRate)));
        }
        kv(s, "expected", expected);
        kv(s, "delivered", delivered);
        kv(s, "lost", lost());
        kv(s, workload == Workload.QUEUE ? "redelivered" : "dropped", dropped);
        kv(s, "elapsed_ms", Math.round(elapsedSeconds * 1000));
        return s.toString();
    }

    private static String us(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static void kv(StringBuilder s, String k, Object v) {
        s.append(' ').append(k).append('=').append(v);
    }
}
