package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Limits;
import tern.protocol.SlowConsumerPolicy;

/** Rule 11: a subscriber that never reads while a publisher floods; the broker stays bounded and serves others. */
class SlowConsumerTest extends BrokerTestBase {
    private static final int MAX_PENDING_BYTES = 256 << 10;
    private static final int PAYLOAD_BYTES = 1000;
    /** 40 MB: more than the kernel socket buffers (a few MB each way on loopback), the pending budget and the queue. */
    private static final int FLOOD_MESSAGES = 40_000;

    private static Limits limits() {
        return Limits.DEFAULT.withMaxFrameBytes(64 << 10).withMaxPending(MAX_PENDING_BYTES, 100);
    }

    private void flood(RawClient pub, int n) throws Exception {
        byte[] payload = new byte[PAYLOAD_BYTES];
        java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
        byte[] one = RawClient.bytes(new Frame.Pub(0, false, "flood", null, Map.of(), payload));
        for (int i = 0; i < n; i++) {
            batch.write(one);
            if (batch.size() > 256 << 10) {
                pub.sendRaw(batch.toByteArray());
                batch.reset();
            }
        }
        pub.sendRaw(batch.toByteArray());
    }

    /** A well-behaved client on the same broker keeps getting its messages. */
    private static void assertOthersServed(RawClient good, RawClient pub) throws Exception {
        pub.pub("good", "still served");
        pub.sync();
        Frame f = good.readUntil(x -> x instanceof Frame.Msg, Duration.ofSeconds(10));
        assertThat(((Frame.Msg) f).payload()).isEqualTo("still served".getBytes());
    }

    @Test
    @Timeout(60)
    void dropOldestQueuesBoundedAndReportsDropped() throws Exception {
        start(limits());
        try (RawClient slow = RawClient.open(broker.port(), 0);
             RawClient good = RawClient.open(broker.port());
             RawClient pub = RawClient.open(broker.port())) {
            slow.send(new Frame.Sub(1, false, "flood", null, SlowConsumerPolicy.DROP_OLDEST, 0));
            slow.sync();
            good.sub(1, "good");
            good.sync();
            flood(pub, FLOOD_MESSAGES);
            pub.sync();
            Poll.until("drops", Duration.ofSeconds(20), () -> broker.stats().slowConsumerDrops() > 0);
            assertOthersServed(good, pub);

            BrokerStats stats = broker.stats();
            assertThat(stats.pendingBytesHighWater()).isLessThanOrEqualTo(MAX_PENDING_BYTES + 64);
            assertThat(stats.waitingBytesHighWater()).isLessThanOrEqualTo(MAX_PENDING_BYTES);
            assertThat(stats.slowConsumerDisconnects()).isZero();

            Frame.Dropped dropped = (Frame.Dropped) slow.readUntil(f -> f instanceof Frame.Dropped, Duration.ofSeconds(20));
            assertThat(dropped.id()).isEqualTo(1);
            assertThat(dropped.count()).isPositive();
            // Everything queued drains; the connection is healthy afterwards.
            slow.sync();
            long delivered = broker.stats().msgsOut();
            assertThat(delivered).isLessThan(FLOOD_MESSAGES + 1);
        }
    }

    @Test
    @Timeout(60)
    void disconnectPolicyClosesWithSlowConsumerError() throws Exception {
        start(limits());
        try (RawClient slow = RawClient.open(broker.port(), 0);
             RawClient good = RawClient.open(broker.port());
             RawClient pub = RawClient.open(broker.port())) {
            slow.send(new Frame.Sub(4, false, "flood", null, SlowConsumerPolicy.DISCONNECT, 0));
            slow.sync();
            good.sub(1, "good");
            good.sync();
            flood(pub, FLOOD_MESSAGES);
            pub.sync();
            Poll.until("slow consumer disconnect", Duration.ofSeconds(20),
                    () -> broker.stats().slowConsumerDisconnects() == 1);
            assertOthersServed(good, pub);
            assertThat(broker.stats().pendingBytesHighWater()).isLessThanOrEqualTo(MAX_PENDING_BYTES + 64);

            Frame.Error e = (Frame.Error) slow.readUntil(f -> f instanceof Frame.Error, Duration.ofSeconds(20));
            assertThat(e.code()).isEqualTo(ErrorCode.SLOW_CONSUMER.code());
            assertThat(e.id()).isEqualTo(4);
            assertThat(e.closing()).isTrue();
            assertThat(slow.closedByPeer(Duration.ofSeconds(10))).isTrue();
            assertThat(broker.stats().errors(ErrorCode.SLOW_CONSUMER)).isEqualTo(1);
        }
    }

    @Test
    @Timeout(60)
    void publisherThatDoesNotReadItsAcksIsPausedNotBuffered() throws Exception {
        start(limits());
        try (RawClient pub = RawClient.open(broker.port(), 64 << 10)) {
            byte[] one = RawClient.bytes(new Frame.Ping(1));
            byte[] many = new byte[one.length * 20_000];
            for (int i = 0; i < 20_000; i++) {
                System.arraycopy(one, 0, many, i * one.length, one.length);
            }
            // Written from another thread: once the broker stops reading, this write blocks.
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 10; i++) {
                        pub.sendRaw(many);
                    }
                } catch (Exception ignored) {
                    // The socket closes at the end of the test.
                }
            });
            writer.setDaemon(true);
            writer.start();
            Poll.until("broker pauses the reader", Duration.ofSeconds(20),
                    () -> broker.stats().pendingBytesHighWater() > MAX_PENDING_BYTES / 4);
            writer.join(500);
            assertThat(broker.stats().pendingBytesHighWater()).isLessThanOrEqualTo(MAX_PENDING_BYTES + (64 << 10));
            // Reading releases it: every PING is answered.
            int pongs = 0;
            while (pongs < 200_000) {
                Frame f = pub.read(Duration.ofSeconds(20));
                if (f instanceof Frame.Pong) {
                    pongs++;
                }
            }
            assertThat(pongs).isEqualTo(200_000);
        }
    }
}
