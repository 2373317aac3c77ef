package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.SlowConsumerPolicy;

class PubSubTest extends BrokerTestBase {

    @Test
    @Timeout(30)
    void handshakeReturnsWelcomeWithServerLimits() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.hello();
            Frame.Welcome w = (Frame.Welcome) c.read();
            assertThat(w.version()).isEqualTo(1);
            assertThat(w.maxFrameBytes()).isEqualTo(broker.config().limits().maxFrameBytes());
            assertThat(w.maxSubscriptions()).isEqualTo(broker.config().limits().maxSubscriptions());
            assertThat(w.serverVersion()).isEqualTo(TernBroker.VERSION);
            assertThat(w.serverId()).isNotEmpty();
        }
    }

    @Test
    @Timeout(30)
    void clientMayAskForSmallerFrames() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.send(RawClient.hello(4096));
            assertThat(((Frame.Welcome) c.read()).maxFrameBytes()).isEqualTo(4096);
        }
    }

    @Test
    @Timeout(30)
    void subscriberGetsPublishWithReplyHeadersAndPayloadUnchanged() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            sub.sub(7, "orders.eu");
            sub.sync();
            pub.send(new Frame.Pub(0, false, "orders.eu", "reply.here", Map.of("k", "v"), "42".getBytes()));
            Frame.Msg m = (Frame.Msg) sub.read();
            assertThat(m).isEqualTo(new Frame.Msg(7, false, "orders.eu", "reply.here", Map.of("k", "v"),
                    "42".getBytes()));
        }
    }

    @Test
    @Timeout(30)
    void largeMessagesAreForwardedWhole() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            sub.sub(1, "big");
            sub.sync();
            byte[] payload = new byte[200_000];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i * 31);
            }
            for (int i = 0; i < 3; i++) {
                pub.send(new Frame.Pub(0, false, "big", null, Map.of(), payload));
            }
            for (int i = 0; i < 3; i++) {
                assertThat(((Frame.Msg) sub.read()).payload()).isEqualTo(payload);
            }
        }
    }

    @Test
    @Timeout(30)
    void wildcardsMatchOneTokenAndTheRest() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            sub.sub(1, "a.*.c");
            sub.sub(2, "a.>");
            sub.sub(3, "*");
            sub.sync();
            for (String s : List.of("a.b.c", "a.b", "a.b.c.d", "x", "a")) {
                pub.pub(s, s);
            }
            pub.sync();
            List<Frame> got = sub.sync();
            List<String> seen = new ArrayList<>();
            for (Frame f : got) {
                Frame.Msg m = (Frame.Msg) f;
                seen.add(m.id() + ":" + m.subject());
            }
            assertThat(seen).containsExactly("1:a.b.c", "2:a.b.c", "2:a.b", "2:a.b.c.d", "3:x", "3:a");
        }
    }

    @Test
    @Timeout(30)
    void connectionWithTwoMatchingSubscriptionsGetsTwoMessages() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.sub(1, "x.y");
            c.sub(2, "x.*");
            c.pub("x.y", "hi");
            List<Frame> got = c.sync();
            assertThat(got).extracting(Frame::id).containsExactlyInAnyOrder(1, 2);
        }
    }

    @Test
    @Timeout(30)
    void queueGroupDeliversEachMessageOnceAcrossTheGroup() throws Exception {
        start();
        try (RawClient a = RawClient.open(broker.port()); RawClient b = RawClient.open(broker.port());
             RawClient plain = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            a.sub(1, "work.*", "workers");
            b.sub(1, "work.>", "workers");
            plain.sub(9, "work.*");
            a.sync();
            b.sync();
            plain.sync();
            int n = 100;
            for (int i = 0; i < n; i++) {
                pub.pub("work.item", Integer.toString(i));
            }
            pub.sync();
            List<Frame> fromA = a.sync();
            List<Frame> fromB = b.sync();
            List<Frame> fromPlain = plain.sync();
            Map<String, Integer> count = new HashMap<>();
            for (Frame f : concat(fromA, fromB)) {
                count.merge(new String(((Frame.Msg) f).payload(), StandardCharsets.UTF_8), 1, Integer::sum);
            }
            assertThat(count).hasSize(n).allSatisfy((k, v) -> assertThat(v).isEqualTo(1));
            assertThat(fromA).hasSize(n / 2);
            assertThat(fromB).hasSize(n / 2);
            assertThat(fromPlain).hasSize(n);
        }
    }

    @Test
    @Timeout(30)
    void unsubscribeAfterNDeliversExactlyN() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            sub.sub(1, "n");
            sub.send(new Frame.Unsub(1, true, 3));
            assertThat(sub.read()).isEqualTo(new Frame.Ok(1));
            for (int i = 0; i < 10; i++) {
                pub.pub("n", "m" + i);
            }
            pub.sync();
            assertThat(sub.sync()).hasSize(3);
            assertThat(broker.stats().subscriptions()).isZero();
            sub.send(new Frame.Unsub(1, false, 0));
            assertThat(sub.readError().code()).isEqualTo(ErrorCode.UNKNOWN_SUBSCRIPTION.code());
            assertThat(sub.sync()).isEmpty();
        }
    }

    @Test
    @Timeout(30)
    void unsubscribeStopsDelivery() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            sub.sub(1, "u");
            sub.sync();
            pub.pub("u", "1");
            pub.sync();
            sub.send(new Frame.Unsub(1, false, 0));
            assertThat(sub.sync()).hasSize(1);
            pub.pub("u", "2");
            pub.sync();
            assertThat(sub.sync()).isEmpty();
        }
    }

    @Test
    @Timeout(30)
    void requestReplyAndNoResponders() throws Exception {
        start();
        try (RawClient requester = RawClient.open(broker.port()); RawClient responder = RawClient.open(broker.port())) {
            requester.sub(1, "_INBOX.abc.*");
            responder.sub(5, "svc.echo");
            requester.sync();
            responder.sync();
            requester.send(new Frame.Pub(0, false, "svc.echo", "_INBOX.abc.1", Map.of(), "ping".getBytes()));
            Frame.Msg req = (Frame.Msg) responder.read();
            assertThat(req.reply()).isEqualTo("_INBOX.abc.1");
            responder.send(new Frame.Pub(0, false, req.reply(), null, Map.of(), "pong".getBytes()));
            Frame.Msg reply = (Frame.Msg) requester.read();
            assertThat(reply.subject()).isEqualTo("_INBOX.abc.1");
            assertThat(reply.payload()).isEqualTo("pong".getBytes());

            requester.send(new Frame.Pub(0, false, "svc.nobody", "_INBOX.abc.2", Map.of(), "x".getBytes()));
            Frame.Msg none = (Frame.Msg) requester.read();
            assertThat(none).isEqualTo(new Frame.Msg(1, true, "_INBOX.abc.2", null, Map.of(), new byte[0]));
        }
    }

    @Test
    @Timeout(30)
    void pingIsAnsweredWithPongOfSameIdAndAckedPublishGetsOk() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.send(new Frame.Ping(12345));
            assertThat(c.read()).isEqualTo(new Frame.Pong(12345));
            c.send(new Frame.Pub(77, true, "nobody.listens", null, Map.of(), new byte[0]));
            assertThat(c.read()).isEqualTo(new Frame.Ok(77));
            c.send(new Frame.Sub(3, true, "s", null, SlowConsumerPolicy.DROP_OLDEST, 0));
            assertThat(c.read()).isEqualTo(new Frame.Ok(3));
        }
    }

    @Test
    @Timeout(30)
    void framesPackedInOneWriteAndSplitByteByByteAreAllProcessed() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.connect(broker.port())) {
            sub.sub(1, "p.*");
            sub.sync();
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            all.write(Frame.PREFACE);
            all.write(RawClient.bytes(RawClient.hello(0)));
            for (int i = 0; i < 20; i++) {
                all.write(RawClient.bytes(new Frame.Pub(0, false, "p." + i, null, Map.of("h", "v"),
                        ("payload-" + i).getBytes())));
            }
            all.write(RawClient.bytes(new Frame.Ping(99)));
            byte[] bytes = all.toByteArray();
            int half = bytes.length / 2;
            pub.sendRaw(java.util.Arrays.copyOf(bytes, half));
            for (int i = half; i < bytes.length; i++) {
                pub.sendRaw(new byte[]{bytes[i]});
            }
            assertThat(pub.read()).isInstanceOf(Frame.Welcome.class);
            assertThat(pub.read()).isEqualTo(new Frame.Pong(99));
            List<Frame> got = sub.sync();
            assertThat(got).hasSize(20);
            for (int i = 0; i < 20; i++) {
                assertThat(((Frame.Msg) got.get(i)).payload()).isEqualTo(("payload-" + i).getBytes());
            }
        }
    }

    @Test
    @Timeout(30)
    void wholeSessionSentOneByteAtATimeWorks() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient c = RawClient.connect(broker.port())) {
            sub.sub(1, "bytewise");
            sub.sync();
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            all.write(Frame.PREFACE);
            all.write(RawClient.bytes(RawClient.hello(0)));
            all.write(RawClient.bytes(new Frame.Pub(3, true, "bytewise", "r.1", Map.of("a", "b"), new byte[3000])));
            all.write(RawClient.bytes(new Frame.Ping(8)));
            for (byte b : all.toByteArray()) {
                c.sendRaw(new byte[]{b});
            }
            assertThat(c.read()).isInstanceOf(Frame.Welcome.class);
            assertThat(c.read()).isEqualTo(new Frame.Ok(3));
            assertThat(c.read()).isEqualTo(new Frame.Pong(8));
            assertThat(sub.read()).isEqualTo(new Frame.Msg(1, false, "bytewise", "r.1", Map.of("a", "b"), new byte[3000]));
        }
    }

    @Test
    @Timeout(30)
    void statsCountMessagesAndBytes() throws Exception {
        start();
        try (RawClient sub = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            sub.sub(1, "s");
            sub.sync();
            for (int i = 0; i < 5; i++) {
                pub.pub("s", "x");
            }
            pub.sync();
            assertThat(sub.sync()).hasSize(5);
            BrokerStats s = broker.stats();
            assertThat(s.connections()).isEqualTo(2);
            assertThat(s.msgsIn()).isEqualTo(5);
            assertThat(s.msgsOut()).isEqualTo(5);
            assertThat(s.bytesIn()).isPositive();
            assertThat(s.bytesOut()).isPositive();
            assertThat(s.subscriptions()).isEqualTo(1);
        }
        Poll.until("connections closed", Duration.ofSeconds(5), () -> broker.stats().connections() == 0);
    }

    @Test
    @Timeout(30)
    void subscribersOnAnotherEventLoopGetMessages() throws Exception {
        start(BrokerConfig.defaults().withPort(0).withEventLoopThreads(2));
        List<RawClient> subs = new ArrayList<>();
        try (RawClient pub = RawClient.open(broker.port())) {
            for (int i = 0; i < 4; i++) {
                RawClient s = RawClient.open(broker.port());
                subs.add(s);
                s.sub(1, "multi.>");
                s.sync();
            }
            for (int i = 0; i < 50; i++) {
                pub.pub("multi.x", "m" + i);
            }
            pub.sync();
            for (RawClient s : subs) {
                List<Frame> got = new ArrayList<>();
                while (got.size() < 50) {
                    got.add(s.read());
                }
                assertThat(((Frame.Msg) got.get(49)).payload()).isEqualTo("m49".getBytes());
            }
        } finally {
            for (RawClient s : subs) {
                s.close();
            }
        }
    }

    private static List<Frame> concat(List<Frame> a, List<Frame> b) {
        List<Frame> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
