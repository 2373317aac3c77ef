package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Limits;
import tern.protocol.SlowConsumerPolicy;

/** Rude peers: every violation gets the right ERROR code, and closes exactly when the code says so. */
class ProtocolErrorTest extends BrokerTestBase {

    private static void assertClosingError(RawClient c, ErrorCode code) throws Exception {
        Frame.Error e = c.readError();
        assertThat(ErrorCode.of(e.code())).as(e.text()).isEqualTo(code);
        assertThat(e.closing()).isTrue();
        assertThat(c.closedByPeer(Duration.ofSeconds(5))).isTrue();
    }

    private static void assertOpenError(RawClient c, ErrorCode code, int id) throws Exception {
        Frame.Error e = c.readError();
        assertThat(ErrorCode.of(e.code())).as(e.text()).isEqualTo(code);
        assertThat(e.closing()).isFalse();
        assertThat(e.id()).isEqualTo(id);
        c.send(new Frame.Ping(424242));
        assertThat(c.read()).isEqualTo(new Frame.Pong(424242));
    }

    @Test
    @Timeout(30)
    void badPrefaceIsRejected() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw("GET / HTTP/1.1\r\n\r\n".getBytes());
            assertClosingError(c, ErrorCode.BAD_PREFACE);
        }
        assertThat(broker.stats().errors(ErrorCode.BAD_PREFACE)).isEqualTo(1);
    }

    @Test
    @Timeout(30)
    void twoGigabyteLengthIsRejectedBeforeBuffering() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.sendRaw(ByteBuffer.allocate(12).putInt(0x7FFF_FFF0).put((byte) 0x10).array());
            assertClosingError(c, ErrorCode.BAD_FRAME_LENGTH);
        }
        try (RawClient c = RawClient.connect(broker.port())) {
            // Before WELCOME the bound is maxPreAuthFrameBytes.
            c.sendRaw(Frame.PREFACE);
            c.sendRaw(ByteBuffer.allocate(4).putInt(Limits.DEFAULT.maxPreAuthFrameBytes() + 1).array());
            assertClosingError(c, ErrorCode.BAD_FRAME_LENGTH);
        }
    }

    @Test
    @Timeout(30)
    void frameLongerThanNegotiatedMaxIsRejected() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.send(RawClient.hello(1024));
            c.read();
            c.send(new Frame.Pub(0, false, "s", null, Map.of(), new byte[2000]));
            assertClosingError(c, ErrorCode.BAD_FRAME_LENGTH);
        }
    }

    @Test
    @Timeout(30)
    void garbageAfterHandshakeIsRejected() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.sendRaw(new byte[]{0, 0, 0, 3, 1, 2, 3});
            assertClosingError(c, ErrorCode.BAD_FRAME_LENGTH);
        }
    }

    @Test
    @Timeout(30)
    void unknownAndServerOnlyFrameTypesAreRejected() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.sendRaw(ByteBuffer.allocate(12).putInt(8).put((byte) 0x7E).array());
            assertClosingError(c, ErrorCode.UNKNOWN_FRAME_TYPE);
        }
        try (RawClient c = RawClient.open(broker.port())) {
            c.send(new Frame.Msg(1, false, "s", null, Map.of(), new byte[0]));
            assertClosingError(c, ErrorCode.UNKNOWN_FRAME_TYPE);
        }
    }

    @Test
    @Timeout(30)
    void badFlagsReservedBytesAndBodiesAreMalformed() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.sendRaw(ByteBuffer.allocate(12).putInt(8).put((byte) 0x05).put((byte) 0x01).array());
            assertClosingError(c, ErrorCode.MALFORMED_FRAME);
        }
        try (RawClient c = RawClient.open(broker.port())) {
            c.sendRaw(ByteBuffer.allocate(12).putInt(8).put((byte) 0x05).put((byte) 0).putShort((short) 1).array());
            assertClosingError(c, ErrorCode.MALFORMED_FRAME);
        }
        try (RawClient c = RawClient.open(broker.port())) {
            // PUB whose subject length points past the end of the frame.
            c.sendRaw(ByteBuffer.allocate(16).putInt(12).put((byte) 0x10).put((byte) 0).putShort((short) 0)
                    .putInt(0).putShort((short) 500).put((byte) 'a').put((byte) 'b').array());
            assertClosingError(c, ErrorCode.MALFORMED_FRAME);
        }
        try (RawClient c = RawClient.open(broker.port())) {
            c.sendRaw(ByteBuffer.allocate(13).putInt(9).put((byte) 0x05).put((byte) 0).putShort((short) 0)
                    .putInt(1).put((byte) 9).array());
            assertClosingError(c, ErrorCode.MALFORMED_FRAME);
        }
    }

    @Test
    @Timeout(30)
    void repeatedHeaderKeyIsMalformed() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            // PUB "s" with headers {k: 1, k: 2}, written by hand (a Map cannot repeat a key).
            ByteBuffer b = ByteBuffer.allocate(12 + 3 + 2 + 2 * 6);
            b.putInt(b.capacity() - 4).put((byte) 0x10).put((byte) 0x02).putShort((short) 0).putInt(5)
                    .putShort((short) 1).put((byte) 's').putShort((short) 2);
            for (char v : new char[]{'1', '2'}) {
                b.putShort((short) 1).put((byte) 'k').putShort((short) 1).put((byte) v);
            }
            c.sendRaw(b.array());
            assertClosingError(c, ErrorCode.MALFORMED_FRAME);
        }
    }

    @Test
    @Timeout(30)
    void serverOnlyFrameBeforeWelcomeIsUnexpected() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.send(new Frame.Ok(1));
            assertClosingError(c, ErrorCode.UNEXPECTED_FRAME);
        }
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.sendRaw(ByteBuffer.allocate(12).putInt(8).put((byte) 0x7E).array());
            assertClosingError(c, ErrorCode.UNKNOWN_FRAME_TYPE);
        }
    }

    @Test
    @Timeout(30)
    void frameBeforeHelloAndSecondHelloAreUnexpected() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.pub("s", "x");
            assertClosingError(c, ErrorCode.UNEXPECTED_FRAME);
        }
        try (RawClient c = RawClient.open(broker.port())) {
            c.send(RawClient.hello(0));
            assertClosingError(c, ErrorCode.UNEXPECTED_FRAME);
        }
    }

    @Test
    @Timeout(30)
    void unsupportedVersionAndMechanismAreRejected() throws Exception {
        start();
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.send(new Frame.Hello(2, 3, 0, 0, "x", "0", "", new byte[0]));
            assertClosingError(c, ErrorCode.UNSUPPORTED_VERSION);
        }
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            c.send(new Frame.Hello(1, 1, 0, 0, "x", "0", "SCRAM-SHA-256", new byte[0]));
            assertClosingError(c, ErrorCode.UNSUPPORTED_MECHANISM);
        }
    }

    @Test
    @Timeout(30)
    void handshakeTimeoutClosesSilentClient() throws Exception {
        start(Limits.DEFAULT.withTimeouts(Duration.ofMillis(200), Duration.ofSeconds(30), Duration.ofSeconds(90)));
        try (RawClient c = RawClient.connect(broker.port())) {
            c.sendRaw(Frame.PREFACE);
            assertClosingError(c, ErrorCode.HANDSHAKE_TIMEOUT);
        }
    }

    @Test
    @Timeout(30)
    void idleTimeoutClosesSilentClientAfterPings() throws Exception {
        start(Limits.DEFAULT.withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(400)));
        try (RawClient c = RawClient.open(broker.port())) {
            assertThat(c.read()).isInstanceOf(Frame.Ping.class);
            Frame f;
            do {
                f = c.read();
            } while (f instanceof Frame.Ping);
            assertThat(f).isInstanceOf(Frame.Error.class);
            assertThat(((Frame.Error) f).code()).isEqualTo(ErrorCode.IDLE_TIMEOUT.code());
            assertThat(c.closedByPeer(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    @Timeout(30)
    void clientThatAnswersPingsStaysConnected() throws Exception {
        start(Limits.DEFAULT.withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(400)));
        try (RawClient c = RawClient.open(broker.port())) {
            long end = System.nanoTime() + Duration.ofMillis(1200).toNanos();
            while (System.nanoTime() < end) {
                Frame f = c.read();
                assertThat(f).isInstanceOf(Frame.Ping.class);
                c.send(new Frame.Pong(f.id()));
            }
            assertThat(c.sync()).allMatch(x -> x instanceof Frame.Ping);
        }
    }

    @Test
    @Timeout(30)
    void tooManyConnectionsIsRejectedOnAccept() throws Exception {
        start(Limits.DEFAULT.withMaxConnections(2));
        try (RawClient a = RawClient.open(broker.port()); RawClient b = RawClient.open(broker.port());
             RawClient c = RawClient.connect(broker.port())) {
            assertClosingError(c, ErrorCode.TOO_MANY_CONNECTIONS);
            assertThat(broker.stats().connectionsRejected()).isEqualTo(1);
            a.sync();
            b.sync();
        }
        Poll.until("slots freed", Duration.ofSeconds(5), () -> broker.stats().connections() == 0);
        try (RawClient again = RawClient.open(broker.port())) {
            again.sync();
        }
    }

    @Test
    @Timeout(30)
    void subscriptionErrorsKeepConnectionOpen() throws Exception {
        start(Limits.DEFAULT.withMaxSubscriptions(2));
        try (RawClient c = RawClient.open(broker.port()); RawClient pub = RawClient.open(broker.port())) {
            c.sub(1, "a");
            c.sub(1, "b");
            assertOpenError(c, ErrorCode.DUPLICATE_SUBSCRIPTION, 1);
            c.sub(2, "b");
            c.sub(3, "c");
            assertOpenError(c, ErrorCode.TOO_MANY_SUBSCRIPTIONS, 3);
            c.send(new Frame.Unsub(2, false, 0));
            c.sub(4, "a..b");
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 4);
            c.sub(5, "a.>.b");
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 5);
            c.send(new Frame.Sub(6, false, "q", "bad.queue", SlowConsumerPolicy.DROP_OLDEST, 0));
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 6);
            c.send(new Frame.Unsub(99, false, 0));
            assertOpenError(c, ErrorCode.UNKNOWN_SUBSCRIPTION, 99);
            // Still works.
            pub.pub("a", "still here");
            pub.sync();
            assertThat(((Frame.Msg) c.read()).payload()).isEqualTo("still here".getBytes());
        }
    }

    @Test
    @Timeout(30)
    void badPublishSubjectsGetErrorWithPubIdAndConnectionStaysOpen() throws Exception {
        start();
        try (RawClient c = RawClient.open(broker.port())) {
            c.sub(1, "ok");
            c.send(new Frame.Pub(11, false, "a.*", null, Map.of(), new byte[0]));
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 11);
            c.send(new Frame.Pub(12, false, "has space", null, Map.of(), new byte[0]));
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 12);
            c.send(new Frame.Pub(13, false, "x".repeat(300), null, Map.of(), new byte[0]));
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 13);
            c.send(new Frame.Pub(14, false, "ok", "bad..reply", Map.of(), new byte[0]));
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 14);
            c.send(new Frame.Pub(15, false, "", null, Map.of(), new byte[0]));
            assertOpenError(c, ErrorCode.BAD_SUBJECT, 15);
            c.pub("ok", "fine");
            assertThat(c.sync()).hasSize(1);
        }
    }

    @Test
    @Timeout(30)
    void tooManyHeadersIsLimitExceeded() throws Exception {
        start();
        java.util.Map<String, String> headers = new java.util.HashMap<>();
        for (int i = 0; i < Limits.DEFAULT.maxHeaders() + 1; i++) {
            headers.put("k" + i, "v");
        }
        try (RawClient c = RawClient.open(broker.port())) {
            c.send(new Frame.Pub(21, false, "h", null, headers, new byte[0]));
            assertOpenError(c, ErrorCode.LIMIT_EXCEEDED, 21);
        }
    }
}
