package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.Frame;
import tern.protocol.Limits;
import tern.protocol.SlowConsumerPolicy;

/**
 * Rule 11 flow control: a subscriber whose output is backed up pauses the publisher feeding it, so a
 * subscriber that reads slower than the publisher writes loses nothing, and the publisher's PING is
 * still answered once the subscriber catches up.
 */
class FlowControlTest extends BrokerTestBase {
    private static final int MAX_PENDING_BYTES = 256 << 10;
    private static final int PAYLOAD_BYTES = 1000;
    /** 20 MB: far more than the socket buffers on loopback plus the pending budget. */
    private static final int MESSAGES = 20_000;

    private static Limits limits() {
        return Limits.DEFAULT.withMaxFrameBytes(64 << 10).withMaxPending(MAX_PENDING_BYTES, 100);
    }

    private static byte[] payload(int seq) {
        byte[] b = new byte[PAYLOAD_BYTES];
        ByteBuffer.wrap(b).putInt(seq);
        return b;
    }

    /** Writes every message then a PING from another thread (its writes block while the broker stops reading). */
    private static CompletableFuture<Void> publishAll(RawClient pub, int pingId) {
        return CompletableFuture.runAsync(() -> {
            try {
                ByteArrayOutputStream batch = new ByteArrayOutputStream();
                for (int i = 0; i < MESSAGES; i++) {
                    batch.write(RawClient.bytes(new Frame.Pub(0, false, "flow", null, Map.of(), payload(i))));
                    if (batch.size() > 128 << 10) {
                        pub.sendRaw(batch.toByteArray());
                        batch.reset();
                    }
                }
                batch.write(RawClient.bytes(new Frame.Ping(pingId)));
                pub.sendRaw(batch.toByteArray());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    @Timeout(60)
    void backedUpSubscriberPausesPublisherInsteadOfDropping() throws Exception {
        start(limits());
        long highWater = TernBroker.waterMark(limits()).high();
        try (RawClient sub = RawClient.open(broker.port(), 64 << 10);
             RawClient pub = RawClient.open(broker.port())) {
            sub.send(new Frame.Sub(1, false, "flow", null, SlowConsumerPolicy.DROP_OLDEST, 0));
            sub.sync();
            int pingId = pub.nextId();
            CompletableFuture<Void> published = publishAll(pub, pingId);
            // The subscriber reads nothing until its backlog on the broker has reached the high water mark:
            // from here on, without flow control the broker keeps reading the publisher and drops.
            Poll.until("subscriber backlog at the high water mark", Duration.ofSeconds(30),
                    () -> broker.stats().pendingBytesHighWater() >= highWater);

            for (int i = 0; i < MESSAGES; i++) {
                Frame f = sub.readUntil(x -> !(x instanceof Frame.Ping), Duration.ofSeconds(20));
                assertThat(f).as("frame %d of %d", i, MESSAGES).isInstanceOf(Frame.Msg.class);
                assertThat(ByteBuffer.wrap(((Frame.Msg) f).payload()).getInt()).isEqualTo(i);
            }
            published.get(20, TimeUnit.SECONDS);
            Frame pong = pub.readUntil(x -> x instanceof Frame.Pong, Duration.ofSeconds(20));
            assertThat(((Frame.Pong) pong).id()).isEqualTo(pingId);
            assertThat(broker.stats().slowConsumerDrops()).isZero();
            assertThat(broker.stats().pendingBytesHighWater()).isLessThanOrEqualTo(MAX_PENDING_BYTES + 64);
        }
    }

    @Test
    @Timeout(60)
    void publisherResumesWhenItsSubscriberGoesAway() throws Exception {
        start(limits());
        long highWater = TernBroker.waterMark(limits()).high();
        try (RawClient pub = RawClient.open(broker.port())) {
            int pingId = pub.nextId();
            CompletableFuture<Void> published;
            try (RawClient sub = RawClient.open(broker.port(), 64 << 10)) {
                sub.sub(1, "flow");
                sub.sync();
                published = publishAll(pub, pingId);
                Poll.until("subscriber backlog at the high water mark", Duration.ofSeconds(30),
                        () -> broker.stats().pendingBytesHighWater() >= highWater);
            }
            published.get(30, TimeUnit.SECONDS);
            Frame pong = pub.readUntil(x -> x instanceof Frame.Pong, Duration.ofSeconds(20));
            assertThat(((Frame.Pong) pong).id()).isEqualTo(pingId);
        }
    }
}
