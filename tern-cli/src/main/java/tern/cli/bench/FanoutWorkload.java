package tern.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import tern.cli.CommandFailedException;
import tern.cli.Failures;
import tern.client.Connection;
import tern.client.Subscription;
import tern.client.TernException;

/**
 * One publisher thread publishing msgs messages to one subject that subs subscribers (each on its
 * own connection) receive; pubsub is the case subs = 1. The publish loop reuses one subject string
 * and one payload array, so it allocates nothing per message; subscribers only bump a counter.
 */
final class FanoutWorkload {
    private static final long POLL_NANOS = 200_000;

    private final BenchContext context;

    FanoutWorkload(BenchContext context) {
        this.context = context;
    }

    BenchResult run(Workload workload, int run, String subject, long msgs, int sizeBytes, int subs, boolean show)
            throws Exception {
        List<Connection> connections = new ArrayList<>(subs + 1);
        try {
            DeliveryCounter[] counters = new DeliveryCounter[subs];
            Subscription[] subscriptions = new Subscription[subs];
            for (int i = 0; i < subs; i++) {
                Connection c = context.connect("bench-sub-" + i);
                connections.add(c);
                counters[i] = new DeliveryCounter(sizeBytes, msgs);
                subscriptions[i] = c.subscribe(subject, counters[i]);
                flush(c, "subscriber " + i, counters, 0);
            }
            Connection pub = context.connect("bench-pub");
            connections.add(pub);
            byte[] payload = payload(sizeBytes);
            long expected = msgs * subs;

            long start;
            long publishEnd;
            long lastProgress;
            Progress bar = Progress.start(show, context.err(), workload.id(), expected, () -> delivered(counters));
            try {
                start = System.nanoTime();
                for (long i = 0; i < msgs; i++) {
                    pub.publish(subject, payload);
                }
                flush(pub, "publisher", counters, expected);
                publishEnd = System.nanoTime();
                lastProgress = awaitDeliveries(counters, expected);
            } finally {
                bar.stop();
            }
            long end = start;
            long delivered = 0;
            long wrongSize = 0;
            long dropped = 0;
            for (int i = 0; i < subs; i++) {
                delivered += counters[i].count();
                long last = counters[i].lastNanos();
                end = Math.max(end, last == 0 ? lastProgress : last);
                wrongSize += counters[i].wrongSize();
                dropped += subscriptions[i].droppedCount();
            }
            double seconds = Math.max(1, end - start) / 1e9;
            double publishSeconds = Math.max(1, publishEnd - start) / 1e9;
            return new BenchResult(workload, run, msgs, sizeBytes, subs, seconds, delivered / seconds,
                    msgs / publishSeconds, expected, delivered, dropped, wrongSize, null);
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    private void flush(Connection c, String who, DeliveryCounter[] counters, long expected) {
        try {
            c.flush(context.timeout());
        } catch (TernException e) {
            throw new CommandFailedException(who + " flush failed (" + delivered(counters) + " of " + expected
                    + " delivered so far): " + Failures.reason(e), e);
        }
    }

    /**
     * Waits until the subscribers have everything, or nothing arrived for the context's timeout;
     * returns when the last delivery was seen. A shortfall is reported by the caller, not thrown.
     */
    private long awaitDeliveries(DeliveryCounter[] counters, long expected) {
        long seen = delivered(counters);
        long lastProgress = System.nanoTime();
        long timeoutNanos = context.timeout().toNanos();
        while (seen < expected) {
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.currentThread().isInterrupted()) {
                throw new CommandFailedException("interrupted");
            }
            long now = System.nanoTime();
            long d = delivered(counters);
            if (d != seen) {
                seen = d;
                lastProgress = now;
            } else if (now - lastProgress > timeoutNanos) {
                break;
            }
        }
        return lastProgress;
    }

    private static long delivered(DeliveryCounter[] counters) {
        long sum = 0;
        for (DeliveryCounter c : counters) {
            sum += c.count();
        }
        return sum;
    }

    static byte[] payload(int sizeBytes) {
        byte[] b = new byte[sizeBytes];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }
}
