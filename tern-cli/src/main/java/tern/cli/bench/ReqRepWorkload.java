package tern.cli.bench;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import tern.cli.CommandFailedException;
import tern.client.Connection;
import tern.client.NoRespondersException;
import tern.client.RequestTimeoutException;

/**
 * Sequential round trips: one requester connection sends a request and waits for its reply before
 * sending the next; one responder connection answers each with a payload of the same size.
 * Latencies go into a preallocated HdrHistogram (nanoseconds, 3 significant digits).
 */
final class ReqRepWorkload {
    /** Requests in a row that may time out before the run is abandoned. */
    private static final int MAX_CONSECUTIVE_TIMEOUTS = 3;
    private static final long HIGHEST_TRACKABLE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final BenchContext context;

    ReqRepWorkload(BenchContext context) {
        this.context = context;
    }

    BenchResult run(int run, String subject, long msgs, long warmup, int sizeBytes, boolean show) throws Exception {
        try (Connection responder = context.connect("bench-responder");
             Connection requester = context.connect("bench-requester")) {
            byte[] response = FanoutWorkload.payload(sizeBytes);
            responder.subscribe(subject, m -> {
                if (m.replyTo() != null) {
                    responder.publish(m.replyTo(), response);
                }
            });
            responder.flush(context.timeout());
            byte[] request = FanoutWorkload.payload(sizeBytes);
            Histogram histogram = new Histogram(HIGHEST_TRACKABLE_NANOS, 3);
            RoundTrips trips = new RoundTrips();

            Progress warmBar = Progress.start(show, context.err(), "reqrep warm-up", warmup, trips::done);
            try {
                roundTrips(requester, subject, request, warmup, null, trips);
            } finally {
                warmBar.stop();
            }
            trips.reset();
            long start;
            long end;
            Progress bar = Progress.start(show, context.err(), "reqrep", msgs, trips::done);
            try {
                start = System.nanoTime();
                roundTrips(requester, subject, request, msgs, histogram, trips);
                end = System.nanoTime();
            } finally {
                bar.stop();
            }
            double seconds = Math.max(1, end - start) / 1e9;
            BenchResult.Latency latency = new BenchResult.Latency(
                    micros(histogram.getValueAtPercentile(50)),
                    micros(histogram.getValueAtPercentile(90)),
                    micros(histogram.getValueAtPercentile(99)),
                    micros(histogram.getValueAtPercentile(99.9)),
                    micros(histogram.getMaxValue()),
                    histogram.getMean() / 1e3);
            return new BenchResult(Workload.REQREP, run, msgs, sizeBytes, 1, seconds, trips.replies / seconds,
                    trips.replies / seconds, msgs, trips.replies, 0, trips.wrongSize, latency);
        }
    }

    private void roundTrips(Connection requester, String subject, byte[] request, long count, Histogram histogram,
                            RoundTrips trips) {
        int consecutiveTimeouts = 0;
        for (long i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            try {
                byte[] reply = requester.request(subject, request, context.timeout()).payload();
                long nanos = System.nanoTime() - t0;
                if (histogram != null) {
                    histogram.recordValue(Math.min(nanos, HIGHEST_TRACKABLE_NANOS));
                }
                if (reply.length != request.length) {
                    trips.wrongSize++;
                }
                trips.replies++;
                consecutiveTimeouts = 0;
            } catch (RequestTimeoutException e) {
                if (++consecutiveTimeouts >= MAX_CONSECUTIVE_TIMEOUTS) {
                    throw new CommandFailedException(consecutiveTimeouts + " requests in a row timed out after "
                            + context.timeout().toMillis() + " ms", e);
                }
            } catch (NoRespondersException e) {
                throw new CommandFailedException("no responders on " + subject, e);
            }
            trips.publish(i + 1);
        }
    }

    private static double micros(long nanos) {
        return nanos / 1e3;
    }

    /** Counts kept by the requester thread; done is also read by the progress bar. */
    private static final class RoundTrips {
        long replies;
        long wrongSize;
        private volatile long done;

        void publish(long n) {
            if ((n & 255) == 0) {
                done = n;
            }
        }

        long done() {
            return done;
        }

        void reset() {
            replies = 0;
            wrongSize = 0;
            done = 0;
        }
    }
}
