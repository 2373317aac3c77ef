package tern.peers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * W1 (1 subscriber) and W2 (fan-out to 4): one publisher connection publishes {@code messages}
 * payloads as fast as its client allows; each subscriber connection counts what it receives. A run
 * ends when every subscriber has everything, when no subscriber made progress for {@code stall}
 * (the rest is reported lost), or at the run timeout (an error).
 */
final class PubSubWorkload {
    private static final Duration STALL = Duration.ofSeconds(5);
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);

    private PubSubWorkload() {
    }

    static PubSubResult run(Target target, String subject, int subscribers, long messages, int payloadBytes,
                            Duration timeout) throws Exception {
        List<Endpoint> open = new ArrayList<>();
        try {
            List<DeliveryCounter> counters = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                Endpoint sub = target.connect("sub" + i);
                open.add(sub);
                DeliveryCounter c = new DeliveryCounter(messages, payloadBytes);
                counters.add(c);
                sub.subscribe(subject, c);
            }
            Endpoint pub = target.connect("pub");
            open.add(pub);
            pub.flush(SETUP_TIMEOUT);
            byte[] payload = new byte[payloadBytes];
            Arrays.fill(payload, (byte) 'x');

            long deadline = System.nanoTime() + timeout.toNanos();
            long t0 = System.nanoTime();
            for (long i = 0; i < messages; i++) {
                pub.publish(subject, payload);
                if ((i & 0xFFFF) == 0 && System.nanoTime() > deadline) {
                    throw new TimeoutException("published only " + i + " of " + messages + " within " + timeout);
                }
            }
            long tPublished = System.nanoTime();
            pub.flush(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));

            long lastTotal = -1;
            long lastProgress = System.nanoTime();
            while (true) {
                long total = 0;
                boolean all = true;
                for (DeliveryCounter c : counters) {
                    total += c.count();
                    all &= c.done();
                }
                long now = System.nanoTime();
                if (all) {
                    break;
                }
                if (total != lastTotal) {
                    lastTotal = total;
                    lastProgress = now;
                } else if (now - lastProgress > STALL.toNanos()) {
                    break; // the rest is lost; reported, not hidden
                }
                if (now > deadline) {
                    throw new TimeoutException("delivered " + total + " of " + messages * subscribers + " within "
                            + timeout);
                }
                LockSupport.parkNanos(200_000); // the end time comes from the delivery threads, not from this poll
            }
            long delivered = 0;
            long wrongSize = 0;
            long end = t0;
            for (DeliveryCounter c : counters) {
                delivered += c.count();
                wrongSize += c.wrongSize();
                end = Math.max(end, c.lastNanos());
            }
            double seconds = Math.max(1, end - t0) / 1e9;
            return new PubSubResult(messages, messages * subscribers, delivered, wrongSize, delivered / seconds,
                    messages / (Math.max(1, tPublished - t0) / 1e9));
        } finally {
            closeAll(open);
        }
    }

    static void closeAll(List<Endpoint> open) {
        for (Endpoint e : open) {
            try {
                e.close();
            } catch (Exception ignored) {
                // closing after a run; a failure here does not change the measurement
            }
        }
    }
}
