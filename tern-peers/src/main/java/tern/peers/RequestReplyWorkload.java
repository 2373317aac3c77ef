package tern.peers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * W3: a requester connection makes sequential blocking requests to an echo responder on another
 * connection; the round trips after the in-run warm-up are recorded in an HdrHistogram (ns).
 */
final class RequestReplyWorkload {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);

    private RequestReplyWorkload() {
    }

    static LatencyResult run(Target target, String subject, int warmupRoundTrips, int roundTrips, int payloadBytes,
                             Duration timeout) throws Exception {
        List<Endpoint> open = new ArrayList<>();
        try {
            Endpoint responder = target.connect("responder");
            open.add(responder);
            responder.serveEcho(subject);
            Endpoint requester = target.connect("requester");
            open.add(requester);
            requester.flush(SETUP_TIMEOUT);
            byte[] payload = new byte[payloadBytes];
            Arrays.fill(payload, (byte) 'r');
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < warmupRoundTrips; i++) {
                check(requester.request(subject, payload, REQUEST_TIMEOUT), payloadBytes);
            }
            Histogram nanos = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
            for (int i = 0; i < roundTrips; i++) {
                long t = System.nanoTime();
                byte[] reply = requester.request(subject, payload, REQUEST_TIMEOUT);
                long rtt = System.nanoTime() - t;
                check(reply, payloadBytes);
                nanos.recordValue(Math.min(rtt, nanos.getHighestTrackableValue()));
                if ((i & 0x3FF) == 0 && System.nanoTime() > deadline) {
                    throw new TimeoutException("only " + i + " of " + roundTrips + " round trips within " + timeout);
                }
            }
            return LatencyResult.of(nanos);
        } finally {
            PubSubWorkload.closeAll(open);
        }
    }

    private static void check(byte[] reply, int payloadBytes) {
        if (reply == null || reply.length != payloadBytes) {
            throw new IllegalStateException("reply of " + (reply == null ? "null" : reply.length + " bytes")
                    + ", expected " + payloadBytes + " bytes");
        }
    }
}
