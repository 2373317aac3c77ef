package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.QueueSpec;
import tern.testkit.BrokerLogGuard;
import tern.testkit.RawConnection;

/** The queue frames on the wire, spoken raw (docs/protocol.md 6.15..6.30 and section 16). */
@Timeout(30)
class QueueRawIT {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final QueueSpec DURABLE = new QueueSpec(true, false, false, 0, 0, 0, 30_000, 0, 0, 0, "", List.of());

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    Path dir;

    private TernBroker broker;

    @BeforeEach
    void start() {
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir));
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    /** Frames until the PONG answering a fresh PING: everything the server sent for the frames before it. */
    private static List<Frame> untilPong(RawConnection c, int pingId) throws Exception {
        c.send(new Frame.Ping(pingId));
        List<Frame> got = new ArrayList<>();
        while (true) {
            Frame f = c.receive(WAIT);
            assertThat(f).as("a frame before PONG " + pingId + " (got " + got + ")").isNotNull();
            if (f instanceof Frame.Pong p && p.id() == pingId) {
                return got;
            }
            if (!(f instanceof Frame.Ping)) {
                got.add(f);
            }
        }
    }

    @Test
    void declareConsumeSendConfirmAckAndList() throws Exception {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            c.send(new Frame.QDeclare(1, "orders", DURABLE));
            Frame.QInfo info = c.receive(Frame.QInfo.class, WAIT);
            assertThat(info.id()).isEqualTo(1);
            assertThat(info.spec()).isEqualTo(DURABLE);
            c.send(new Frame.Consume(2, true, "orders", 16, false));
            assertThat(c.receive(WAIT)).isEqualTo(new Frame.Ok(2));
            c.send(new Frame.Send(0x8000_0001, true, "orders", Map.of("k", "v"), "42".getBytes(UTF_8)));
            List<Frame> got = untilPong(c, 100);
            while (got.size() < 2) {
                got.addAll(untilPong(c, 101 + got.size()));
            }
            Frame.Deliver d = (Frame.Deliver) got.stream().filter(f -> f instanceof Frame.Deliver).findFirst()
                    .orElseThrow();
            assertThat(got).contains(new Frame.Confirm(0x8000_0001, 0, true));
            assertThat(d.id()).isEqualTo(2);
            assertThat(d.offset()).isZero();
            assertThat(d.deliveryCount()).isEqualTo(1);
            assertThat(d.subject()).isEqualTo("orders");
            assertThat(d.headers()).isEqualTo(Map.of("k", "v"));
            assertThat(new String(d.payload(), UTF_8)).isEqualTo("42");
            c.send(new Frame.Ack(2, new long[] {d.token()}));
            assertThat(untilPong(c, 200)).as("ACK has no answer").isEmpty();
            c.send(new Frame.QList(3, ""));
            List<Frame> list = untilPong(c, 201);
            assertThat(list).hasSize(2);
            Frame.QInfo listed = (Frame.QInfo) list.get(0);
            assertThat(listed.acked()).isEqualTo(1);
            assertThat(listed.unacked()).isZero();
            assertThat(listed.consumers()).isEqualTo(1);
            assertThat(list.get(1)).isEqualTo(new Frame.Count(3, 1));
            c.send(new Frame.QPurge(4, "orders"));
            c.send(new Frame.Cancel(2, true));
            c.send(new Frame.QDelete(5, "orders"));
            assertThat(untilPong(c, 202)).containsExactly(new Frame.Count(4, 0), new Frame.Ok(2), new Frame.Ok(5));
        }
    }

    /**
     * A burst of SENDs is published as one batch (one log write, one fsync wait), yet each SEND keeps its own
     * outcome, and a frame after the SENDs in the same burst sees all of them in the queue (protocol.md 16).
     */
    @Test
    void sendsInOneBurstKeepTheirOwnOutcomesAndTheirOrderWithOtherFrames() throws Exception {
        QueueSpec maxThree = new QueueSpec(true, false, false, 0, 0, 0, 30_000, 3, 0, 0, "", List.of());
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            c.send(new Frame.QDeclare(1, "jobs", maxThree));
            c.receive(Frame.QInfo.class, WAIT);
            java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
            for (int id = 11; id <= 15; id++) {
                burst.writeBytes(bytes(new Frame.Send(id, true, "jobs", Map.of(), ("m" + id).getBytes(UTF_8))));
            }
            burst.writeBytes(bytes(new Frame.QPurge(20, "jobs")));
            burst.writeBytes(bytes(new Frame.Send(21, true, "jobs", Map.of(), "m21".getBytes(UTF_8))));
            burst.writeBytes(bytes(new Frame.Send(22, false, "jobs", Map.of(), "m22".getBytes(UTF_8))));
            burst.writeBytes(bytes(new Frame.QList(23, "jobs")));
            c.sendBytes(burst.toByteArray());

            Map<Integer, Frame> byId = new java.util.HashMap<>();
            while (byId.size() < 8) { // 11..15, 20, 21, 23 (QINFO first, then COUNT); 22 gets no answer
                Frame f = c.receive(WAIT);
                assertThat(f).as("answers so far: " + byId).isNotNull();
                addAnswer(byId, f);
            }
            // A CONFIRM for 22 would be written with 21's: read everything up to a PONG, so the check below sees it.
            for (Frame f : untilPong(c, 24)) {
                addAnswer(byId, f);
            }
            // 11..13 fit (max length 3), 14 and 15 are refused one by one, 22 asked for no CONFIRM.
            assertThat(byId.get(11)).isEqualTo(new Frame.Confirm(11, 0, true));
            assertThat(byId.get(12)).isEqualTo(new Frame.Confirm(12, 1, true));
            assertThat(byId.get(13)).isEqualTo(new Frame.Confirm(13, 2, true));
            assertThat(((Frame.Error) byId.get(14)).code()).isEqualTo(ErrorCode.QUEUE_FULL.code());
            assertThat(((Frame.Error) byId.get(15)).code()).isEqualTo(ErrorCode.QUEUE_FULL.code());
            // The purge came after the first five SENDs: it removed the three that were accepted.
            assertThat(byId.get(20)).isEqualTo(new Frame.Count(20, 3));
            assertThat(byId.get(21)).isEqualTo(new Frame.Confirm(21, 3, true));
            assertThat(byId).doesNotContainKey(22);
            // The listing came after 21 and 22: both are in the queue.
            assertThat(((Frame.QInfo) byId.get(23)).depth()).isEqualTo(2);
        }
    }

    /** Files an answer by its request id; of 23's answers (QINFO, then COUNT) it keeps the QINFO. */
    private static void addAnswer(Map<Integer, Frame> byId, Frame f) {
        int id = f instanceof Frame.Confirm cf ? cf.id() : f instanceof Frame.Error e ? e.id()
                : f instanceof Frame.Count n ? n.id() : f instanceof Frame.QInfo q ? q.id() : -1;
        if (id != -1) {
            byId.merge(id, f, (a, b) -> id == 23 ? a : b);
        }
    }

    private static byte[] bytes(Frame f) {
        ByteBuffer b = Frames.encode(f);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void settlingForAnUnknownConsumerIsStaleAndTheConnectionStaysOpen() throws Exception {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            c.send(new Frame.Ack(99, new long[] {5, 6}));
            c.send(new Frame.Nack(99, 7, 0));
            c.send(new Frame.Cancel(98, true));
            List<Frame> got = untilPong(c, 1);
            assertThat(got).hasSize(4);
            for (int i = 0; i < 3; i++) {
                Frame.Error e = (Frame.Error) got.get(i);
                assertThat(e.id()).isEqualTo(99);
                assertThat(e.code()).isEqualTo(ErrorCode.STALE_DELIVERY.code());
                assertThat(e.closing()).isFalse();
                assertThat(e.text()).contains(Long.toString(new long[] {5, 6, 7}[i]));
            }
            Frame.Error unknown = (Frame.Error) got.get(3);
            assertThat(unknown.code()).isEqualTo(ErrorCode.UNKNOWN_SUBSCRIPTION.code());
            assertThat(unknown.id()).isEqualTo(98);
            c.send(new Frame.QDeclare(1, "q", DURABLE));
            c.send(new Frame.Consume(2, true, "q", 1, false));
            c.send(new Frame.Consume(2, true, "q", 1, false));
            c.send(new Frame.Consume(3, true, "missing", 1, false));
            c.send(new Frame.Send(0x8000_0002, true, "missing", Map.of(), new byte[1]));
            List<Frame> more = untilPong(c, 2);
            assertThat(more.get(0)).isInstanceOf(Frame.QInfo.class);
            assertThat(more.get(1)).isEqualTo(new Frame.Ok(2));
            assertThat(more.subList(2, 5)).extracting(f -> ((Frame.Error) f).code()).containsExactly(
                    ErrorCode.DUPLICATE_SUBSCRIPTION.code(), ErrorCode.QUEUE_NOT_FOUND.code(),
                    ErrorCode.QUEUE_NOT_FOUND.code());
            assertThat(more.subList(2, 5)).extracting(Frame::id).containsExactly(2, 3, 0x8000_0002);
        }
    }

    @Test
    void anAckWhoseCountDoesNotMatchItsTokensClosesTheConnection() throws Exception {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            ByteBuffer ack = Frames.encode(new Frame.Ack(1, new long[] {1, 2}));
            ack.putInt(Frame.BODY_OFFSET, 3);
            byte[] bytes = new byte[ack.remaining()];
            ack.get(bytes);
            c.sendBytes(bytes);
            Frame.Error e = c.receive(Frame.Error.class, WAIT);
            assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_FRAME.code());
            assertThat(e.closing()).isTrue();
            assertThat(c.awaitClosed(WAIT)).isTrue();
        }
    }

    /** QBIND (6.30): COUNT says whether anything changed; refusals are ERRORs that keep the connection open. */
    @Test
    void qbindAnswersCountAndRefusesWithoutClosing() throws Exception {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            c.send(new Frame.QDeclare(1, "q", DURABLE));
            assertThat(c.receive(Frame.QInfo.class, WAIT).id()).isEqualTo(1);
            c.send(new Frame.QBind(2, false, "q", "orders.*"));
            c.send(new Frame.QBind(3, false, "q", "orders.*"));   // already bound
            c.send(new Frame.QBind(4, true, "q", "orders.>"));    // never bound: not an error
            c.send(new Frame.QBind(5, true, "q", "orders.*"));
            c.send(new Frame.QBind(6, true, "q", "orders.*"));    // already removed
            assertThat(untilPong(c, 100)).containsExactly(new Frame.Count(2, 1), new Frame.Count(3, 0),
                    new Frame.Count(4, 0), new Frame.Count(5, 1), new Frame.Count(6, 0));

            c.send(new Frame.QBind(7, false, "missing", "orders.*"));
            c.send(new Frame.QBind(8, true, "missing", "orders.*"));
            c.send(new Frame.QBind(9, false, "q", "orders..eu"));
            c.send(new Frame.QBind(10, true, "q", "a.>.b"));
            c.send(new Frame.QBind(11, false, "q", ""));
            c.send(new Frame.QBind(12, false, "q", "x".repeat(300)));
            List<Frame> errors = untilPong(c, 101);
            assertThat(errors).allSatisfy(f -> assertThat(f).isInstanceOfSatisfying(Frame.Error.class,
                    e -> assertThat(e.closing()).isFalse()));
            assertThat(errors).extracting(Frame::id).containsExactly(7, 8, 9, 10, 11, 12);
            assertThat(errors).extracting(f -> ((Frame.Error) f).code()).containsExactly(
                    ErrorCode.QUEUE_NOT_FOUND.code(), ErrorCode.QUEUE_NOT_FOUND.code(), ErrorCode.BAD_SUBJECT.code(),
                    ErrorCode.BAD_SUBJECT.code(), ErrorCode.BAD_SUBJECT.code(), ErrorCode.BAD_SUBJECT.code());
            assertThat(((Frame.Error) errors.get(0)).text()).contains("'missing'");

            // QUEUE_LIMIT past the engine's bindings per queue (100 by default)
            for (int i = 0; i < 100; i++) {
                c.send(new Frame.QBind(1000 + i, false, "q", "b." + i));
            }
            c.send(new Frame.QBind(2000, false, "q", "b.100"));
            c.send(new Frame.QBind(2001, false, "q", "b.99"));     // an existing binding is not a new one
            List<Frame> got = untilPong(c, 102);
            assertThat(got).hasSize(102);
            assertThat(got.subList(0, 100)).allSatisfy(f -> assertThat(f).isInstanceOf(Frame.Count.class)
                    .extracting(x -> ((Frame.Count) x).count()).isEqualTo(1L));
            Frame.Error limit = (Frame.Error) got.get(100);
            assertThat(limit.id()).isEqualTo(2000);
            assertThat(limit.code()).isEqualTo(ErrorCode.QUEUE_LIMIT.code());
            assertThat(limit.closing()).isFalse();
            assertThat(got.get(101)).isEqualTo(new Frame.Count(2001, 0));

            // the bindings are the queue's, as QLIST shows them
            c.send(new Frame.QList(13, "q"));
            List<Frame> list = untilPong(c, 103);
            assertThat(((Frame.QInfo) list.get(0)).spec().bindings()).hasSize(100).startsWith("b.0")
                    .doesNotContain("orders.*");
        }
    }

    @Test
    void qbindWithAFlagOtherThanUnbindIsMalformedAndClosesTheConnection() throws Exception {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            byte[] bytes = Frames.encode(new Frame.QBind(1, false, "q", "a")).array();
            bytes[Frame.FLAGS_OFFSET] = (byte) 0x80;
            c.sendBytes(bytes);
            Frame.Error e = c.receive(Frame.Error.class, WAIT);
            assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_FRAME.code());
            assertThat(e.closing()).isTrue();
            assertThat(c.awaitClosed(WAIT)).isTrue();
        }
    }

    @Test
    void queueFramesAreClientOnlyOrServerOnly() {
        assertThat(FrameType.DELIVER.sentByClient()).isFalse();
        assertThat(FrameType.SEND.sentByServer()).isFalse();
        assertThat(FrameType.QBIND.sentByServer()).isFalse();
    }

    @Test
    void aServerOnlyQueueFrameFromAClientIsUnknown() throws Exception {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", broker.port())) {
            c.send(new Frame.Confirm(1, 2, true));
            Frame.Error e = c.receive(Frame.Error.class, WAIT);
            assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_FRAME_TYPE.code());
            assertThat(e.closing()).isTrue();
        }
    }
}
