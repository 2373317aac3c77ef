package tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static tern.protocol.TestFrames.NONE;
import static tern.protocol.TestFrames.bytes;
import static tern.protocol.TestFrames.utf8;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class FramesTest {

    static List<Frame> examples() {
        return TestFrames.examples();
    }

    // ---- round trips ------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("examples")
    void roundTripsThroughHeapBuffer(Frame frame) {
        ByteBuffer encoded = Frames.encode(frame);
        assertThat(encoded.position()).isZero();
        assertThat(encoded.remaining()).isEqualTo(Frames.encodedBytes(frame));
        assertThat(encoded.getInt(0)).isEqualTo(encoded.remaining() - Frame.PREFIX_BYTES);
        assertThat(encoded.get(Frame.TYPE_OFFSET) & 0xFF).isEqualTo(frame.type().code());
        assertThat(encoded.getInt(Frame.ID_OFFSET)).isEqualTo(frame.id());
        assertThat(Frames.decode(encoded)).isEqualTo(frame);
        assertThat(encoded.position()).as("decode leaves the position alone").isZero();
    }

    @ParameterizedTest
    @MethodSource("examples")
    void roundTripsThroughDirectBufferAtAnOffset(Frame frame) {
        byte[] bytes = bytes(frame);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 10);
        direct.position(7);
        direct.put(bytes);
        direct.put(new byte[] {1, 2, 3});
        direct.position(7).limit(7 + bytes.length);
        assertThat(Frames.decode(direct)).isEqualTo(frame);
    }

    @ParameterizedTest
    @MethodSource("examples")
    void encodesAtTheBuffersPosition(Frame frame) {
        ByteBuffer b = ByteBuffer.allocate(Frames.encodedBytes(frame) + 5);
        b.position(5);
        Frames.encode(frame, b);
        assertThat(b.position()).isEqualTo(b.capacity());
        byte[] tail = new byte[b.capacity() - 5];
        b.get(5, tail);
        assertThat(tail).isEqualTo(bytes(frame));
    }

    @Test
    void examplesCoverEveryFrameType() {
        Set<FrameType> covered = examples().stream().map(Frame::type).collect(Collectors.toSet());
        assertThat(covered).containsExactlyInAnyOrderElementsOf(EnumSet.allOf(FrameType.class));
    }

    @Test
    void decodeAllReadsPackedFramesInOrder() {
        List<Frame> frames = examples();
        assertThat(Frames.decodeAll(TestFrames.bytes(frames))).containsExactlyElementsOf(frames);
        assertThat(Frames.decodeAll(NONE)).isEmpty();
    }

    @Test
    void decodeAllRejectsATruncatedLastFrame() {
        byte[] all = TestFrames.bytes(List.of(new Frame.Ping(1), new Frame.Ok(2)));
        byte[] cut = java.util.Arrays.copyOf(all, all.length - 1);
        expect(() -> Frames.decodeAll(cut), ErrorCode.MALFORMED_FRAME).hasMessageContaining("truncated");
    }

    @Test
    void qbindSaysUnbindWithItsFlagAndNothingElse() {
        byte[] bind = bytes(new Frame.QBind(6, false, "orders", "orders.*"));
        byte[] unbind = bytes(new Frame.QBind(6, true, "orders", "orders.*"));
        assertThat(bind[Frame.FLAGS_OFFSET]).isZero();
        assertThat(unbind[Frame.FLAGS_OFFSET]).isEqualTo((byte) Flags.UNBIND);
        unbind[Frame.FLAGS_OFFSET] = 0;
        assertThat(unbind).isEqualTo(bind);
        assertThat(Frames.decode(ByteBuffer.wrap(bytes(new Frame.QBind(6, true, "orders", "orders.*")))))
                .isEqualTo(new Frame.QBind(6, true, "orders", "orders.*"));
    }

    @Test
    void subQueueEmptyMeansNone() {
        Frame.Sub sub = new Frame.Sub(1, false, "a", "", SlowConsumerPolicy.DROP_OLDEST, 0);
        assertThat(sub.queue()).isNull();
        assertThat(Frames.decode(Frames.encode(sub))).isEqualTo(sub);
    }

    @Test
    void putPubWritesTheSameBytesAsEncode() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("a", "1");
        headers.put("b", "2");
        byte[] payload = utf8("xxhello worldyy");
        for (boolean ack : new boolean[] {false, true}) {
            for (String reply : new String[] {null, "", "inbox.1"}) {
                for (Map<String, String> h : List.of(Map.<String, String>of(), headers)) {
                    Frame.Pub expected = new Frame.Pub(77, ack, "s.t", reply, h, utf8("hello world"));
                    byte[] block = Frames.encodeHeaders(h);
                    byte[] replyBytes = reply == null ? null : utf8(reply);
                    int size = Frames.pubBytes(utf8("s.t"), replyBytes, block, 11);
                    ByteBuffer b = ByteBuffer.allocate(size);
                    Frames.putPub(b, 77, ack, utf8("s.t"), replyBytes, block, payload, 2, 11);
                    assertThat(b.position()).isEqualTo(size);
                    assertThat(b.array()).isEqualTo(bytes(expected));
                }
            }
        }
        ByteBuffer noBlock = ByteBuffer.allocate(Frames.pubBytes(utf8("s"), null, null, 0));
        Frames.putPub(noBlock, 1, false, utf8("s"), null, null, NONE, 0, 0);
        assertThat(noBlock.array()).isEqualTo(bytes(new Frame.Pub(1, false, "s", null, Map.of(), NONE)));
    }

    @Test
    void headerBlockRoundTripsAndKeepsOrder() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("z", "last?");
        headers.put("a", "");
        headers.put("ключ", "значение");
        byte[] block = Frames.encodeHeaders(headers);
        assertThat(ByteBuffer.wrap(block).getShort(0)).isEqualTo((short) 3);
        Map<String, String> decoded = Frames.decodeHeaders(ByteBuffer.wrap(block), 0, block.length);
        assertThat(decoded).containsExactlyEntriesOf(headers);
        assertThat(Frames.encodeHeaders(Map.of())).isEmpty();
        assertThat(Frames.decodeHeaders(ByteBuffer.wrap(block), 0, 0)).isEmpty();
    }

    @Test
    void msgBodyIsThePubBody() {
        Map<String, String> headers = Map.of("k", "v");
        byte[] pub = bytes(new Frame.Pub(5, true, "a.b", "r.1", headers, utf8("payload")));
        byte[] msg = bytes(new Frame.Msg(9, false, "a.b", "r.1", headers, utf8("payload")));
        assertThat(msg.length).isEqualTo(pub.length);
        assertThat(java.util.Arrays.copyOfRange(msg, Frame.BODY_OFFSET, msg.length))
                .isEqualTo(java.util.Arrays.copyOfRange(pub, Frame.BODY_OFFSET, pub.length));
        assertThat(msg[Frame.FLAGS_OFFSET]).isEqualTo((byte) (pub[Frame.FLAGS_OFFSET] & ~Flags.ACK));
    }

    @Test
    void headerCountZeroWithHeadersFlagDecodesAsNoHeaders() {
        byte[] b = bytes(new Frame.Pub(1, false, "s", null, Map.of(), utf8("p")));
        b = insert(b, Frame.BODY_OFFSET + 3, new byte[] {0, 0});
        b[Frame.FLAGS_OFFSET] = Flags.HEADERS;
        assertThat(Frames.decode(ByteBuffer.wrap(b))).isEqualTo(new Frame.Pub(1, false, "s", null, Map.of(), utf8("p")));
    }

    @Test
    void idOfFramesWithoutOneIsIgnored() {
        byte[] b = bytes(new Frame.GoAway(203, 5, "bye"));
        ByteBuffer.wrap(b).putInt(Frame.ID_OFFSET, 99);
        assertThat(Frames.decode(ByteBuffer.wrap(b))).isEqualTo(new Frame.GoAway(203, 5, "bye"));
    }

    // ---- the header ------------------------------------------------------------------------------

    @Test
    void rejectsLengthBelowHeaderBytes() {
        byte[] b = bytes(new Frame.Ping(1));
        for (int length : new int[] {0, 1, 7, -1, Integer.MIN_VALUE}) {
            ByteBuffer.wrap(b).putInt(0, length);
            expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.BAD_FRAME_LENGTH);
            expect(() -> Frames.decodeAll(b), ErrorCode.BAD_FRAME_LENGTH);
        }
    }

    @Test
    void rejectsLengthThatDisagreesWithTheBytes() {
        byte[] b = bytes(new Frame.Unsub(1, false, 3));
        ByteBuffer.wrap(b).putInt(0, 11);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.BAD_FRAME_LENGTH);
        ByteBuffer.wrap(b).putInt(0, 13);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void rejectsFewerBytesThanAHeader() {
        expect(() -> Frames.decode(ByteBuffer.wrap(new byte[] {0, 0, 0, 8, 5, 0, 0, 0, 0, 0, 0})),
                ErrorCode.MALFORMED_FRAME);
        expect(() -> Frames.decode(ByteBuffer.wrap(NONE)), ErrorCode.MALFORMED_FRAME);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x0A, 0x0F, 0x15, 0x7F, 0x80, 0xFF})
    void rejectsUndefinedFrameType(int code) {
        byte[] b = bytes(new Frame.Ping(1));
        b[Frame.TYPE_OFFSET] = (byte) code;
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.UNKNOWN_FRAME_TYPE)
                .hasMessageContaining(Integer.toHexString(code));
        assertThat(FrameType.of(code)).isNull();
    }

    @Test
    void rejectsEveryFlagItsTypeDoesNotDefine() {
        for (Frame frame : examples()) {
            int allowed = Flags.allowed(frame.type());
            for (int bit = 0; bit < 8; bit++) {
                int flag = 1 << bit;
                if ((allowed & flag) != 0) {
                    continue;
                }
                byte[] b = bytes(frame);
                b[Frame.FLAGS_OFFSET] |= (byte) flag;
                expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME)
                        .hasMessageContaining("flags");
            }
        }
    }

    @Test
    void allowedFlagsAreTheDocumentedOnes() {
        assertThat(Flags.allowed(FrameType.PUB)).isEqualTo(0x83);
        assertThat(Flags.allowed(FrameType.MSG)).isEqualTo(0x07);
        assertThat(Flags.allowed(FrameType.SUB)).isEqualTo(0x80);
        assertThat(Flags.allowed(FrameType.UNSUB)).isEqualTo(0x80);
        assertThat(Flags.allowed(FrameType.ERROR)).isEqualTo(0x40);
        assertThat(Flags.allowed(FrameType.SEND)).isEqualTo(0x82);
        assertThat(Flags.allowed(FrameType.CONSUME)).isEqualTo(0x88);
        assertThat(Flags.allowed(FrameType.CANCEL)).isEqualTo(0x80);
        assertThat(Flags.allowed(FrameType.DELIVER)).isEqualTo(0x12);
        assertThat(Flags.allowed(FrameType.QBIND)).isEqualTo(0x20);
        for (FrameType t : EnumSet.complementOf(EnumSet.of(FrameType.PUB, FrameType.MSG, FrameType.SUB,
                FrameType.UNSUB, FrameType.ERROR, FrameType.SEND, FrameType.CONSUME, FrameType.CANCEL,
                FrameType.DELIVER, FrameType.QBIND))) {
            assertThat(Flags.allowed(t)).as(t.name()).isZero();
        }
    }

    @Test
    void rejectsNonZeroReserved() {
        for (Frame frame : examples()) {
            for (int offset : new int[] {Frame.RESERVED_OFFSET, Frame.RESERVED_OFFSET + 1}) {
                byte[] b = bytes(frame);
                b[offset] = 1;
                expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME)
                        .hasMessageContaining("reserved");
            }
        }
    }

    // ---- bodies ----------------------------------------------------------------------------------

    @Test
    void rejectsTrailingBytesAfterEveryFixedLayout() {
        for (Frame frame : examples()) {
            if (frame.type() == FrameType.PUB || frame.type() == FrameType.MSG || frame.type() == FrameType.SEND
                    || frame.type() == FrameType.DELIVER) {
                continue; // their payload runs to the end of the frame
            }
            byte[] b = appendToBody(bytes(frame), new byte[] {0});
            expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME)
                    .hasMessageContaining("trailing");
        }
    }

    @Test
    void rejectsEveryTruncationOfEveryBody() {
        for (Frame frame : examples()) {
            byte[] whole = bytes(frame);
            int minimal = frame.type() == FrameType.PUB || frame.type() == FrameType.MSG
                    ? Frame.BODY_OFFSET + 2 + ByteBuffer.wrap(whole).getShort(Frame.BODY_OFFSET)
                    : frame instanceof Frame.Send m ? whole.length - m.payload().length
                    : frame instanceof Frame.Deliver d ? whole.length - d.payload().length : whole.length;
            for (int cut = Frame.BODY_OFFSET; cut < minimal; cut++) {
                byte[] b = withLength(java.util.Arrays.copyOf(whole, cut));
                expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME);
            }
        }
    }

    @Test
    void rejectsStrLengthPastTheEnd() {
        byte[] hello = bytes(new Frame.Hello(1, 1, 0, 0, "abc", "1", "", NONE));
        ByteBuffer.wrap(hello).putShort(Frame.BODY_OFFSET + 12, (short) 0xFFFF);
        expect(() -> Frames.decode(ByteBuffer.wrap(hello)), ErrorCode.MALFORMED_FRAME)
                .hasMessageContaining("clientName");

        byte[] pub = bytes(new Frame.Pub(1, false, "abc", null, Map.of(), NONE));
        ByteBuffer.wrap(pub).putShort(Frame.BODY_OFFSET, (short) 4);
        expect(() -> Frames.decode(ByteBuffer.wrap(pub)), ErrorCode.MALFORMED_FRAME)
                .hasMessageContaining("subject");

        byte[] reply = bytes(new Frame.Pub(1, false, "abc", "r", Map.of(), NONE));
        ByteBuffer.wrap(reply).putShort(Frame.BODY_OFFSET + 5, (short) 2);
        expect(() -> Frames.decode(ByteBuffer.wrap(reply)), ErrorCode.MALFORMED_FRAME)
                .hasMessageContaining("reply");
    }

    @Test
    void rejectsHeaderStrPastTheEnd() {
        byte[] b = bytes(new Frame.Pub(1, false, "s", null, Map.of("key", "value"), NONE));
        int valueLength = b.length - 7;
        ByteBuffer.wrap(b).putShort(valueLength, (short) 6);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME)
                .hasMessageContaining("header value");
        byte[] count = bytes(new Frame.Pub(1, false, "s", null, Map.of("key", "value"), NONE));
        ByteBuffer.wrap(count).putShort(Frame.BODY_OFFSET + 3, (short) 2);
        expect(() -> Frames.decode(ByteBuffer.wrap(count)), ErrorCode.MALFORMED_FRAME)
                .hasMessageContaining("header key");
    }

    @Test
    void rejectsMoreHeadersThanTheLimit() {
        Map<String, String> three = Map.of("a", "1", "b", "2", "c", "3");
        Limits two = new Limits(1 << 20, 8 << 10, 256, 32, 2, 10, 10, 64L << 20, 10,
                Limits.DEFAULT.handshakeTimeout(), Limits.DEFAULT.pingInterval(), Limits.DEFAULT.idleTimeout());
        for (Frame f : List.of(new Frame.Pub(1, false, "s", null, three, NONE),
                new Frame.Msg(1, false, "s", null, three, NONE))) {
            expect(() -> Frames.decode(Frames.encode(f), two), ErrorCode.LIMIT_EXCEEDED)
                    .hasMessageContaining("3 > max 2");
            assertThat(Frames.decode(Frames.encode(f), Limits.DEFAULT)).isEqualTo(f);
        }
    }

    @Test
    void rejectsHeaderCountWithoutHeaders() {
        byte[] b = bytes(new Frame.Pub(1, false, "s", null, Map.of("k", "v"), NONE));
        ByteBuffer.wrap(b).putShort(Frame.BODY_OFFSET + 3, (short) 0xFFFF);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME);
    }

    @Test
    void rejectsRepeatedHeaderKey() {
        byte[] b = bytes(new Frame.Pub(1, false, "s", null, Map.of("k", "v"), NONE));
        byte[] entry = java.util.Arrays.copyOfRange(b, Frame.BODY_OFFSET + 5, b.length);
        byte[] twice = appendToBody(b, entry);
        ByteBuffer.wrap(twice).putShort(Frame.BODY_OFFSET + 3, (short) 2);
        expect(() -> Frames.decode(ByteBuffer.wrap(twice)), ErrorCode.MALFORMED_FRAME)
                .hasMessageContaining("repeated");
    }

    @Test
    void rejectsSubjectAndReplyLongerThanTheLimit() {
        String long257 = "a".repeat(257);
        expect(() -> Frames.decode(Frames.encode(new Frame.Pub(1, false, long257, null, Map.of(), NONE)),
                Limits.DEFAULT), ErrorCode.BAD_SUBJECT).hasMessageContaining("257");
        expect(() -> Frames.decode(Frames.encode(new Frame.Msg(1, false, "s", long257, Map.of(), NONE)),
                Limits.DEFAULT), ErrorCode.BAD_SUBJECT).hasMessageContaining("reply");
        String max = "a".repeat(256);
        assertThat(Frames.decode(Frames.encode(new Frame.Pub(1, false, max, max, Map.of(), NONE)), Limits.DEFAULT))
                .isEqualTo(new Frame.Pub(1, false, max, max, Map.of(), NONE));
    }

    @Test
    void rejectsU31FieldsWithTheTopBitSet() {
        // offsets within the body of each u31 field
        expectU31(new Frame.Hello(1, 1, 0, 0, "", "", "", NONE), 4, "maxFrameBytes");
        expectU31(new Frame.Hello(1, 1, 0, 0, "", "", "", NONE), 18, "authData length");
        expectU31(welcome(), 2, "maxFrameBytes");
        expectU31(welcome(), 10, "maxSubscriptions");
        expectU31(welcome(), 14, "pingIntervalMillis");
        expectU31(welcome(), 18, "idleTimeoutMillis");
        expectU31(new Frame.Auth(NONE), 0, "data length");
        expectU31(new Frame.Challenge(NONE), 0, "data length");
        expectU31(new Frame.GoAway(203, 1, ""), 2, "drainMillis");
        expectU31(new Frame.Sub(1, false, "s", null, SlowConsumerPolicy.DROP_OLDEST, 0), 6, "maxPendingMessages");
        expectU31(new Frame.Unsub(1, false, 0), 0, "afterMessages");
    }

    @Test
    void acceptsFullRangeWhereTheFieldIsSigned() {
        Frame.Hello hello = new Frame.Hello(1, 1, 0, Integer.MIN_VALUE, "", "", "", NONE);
        assertThat(Frames.decode(Frames.encode(hello))).isEqualTo(hello);
        Frame.Dropped dropped = new Frame.Dropped(-1, -1L);
        assertThat(Frames.decode(Frames.encode(dropped))).isEqualTo(dropped);
    }

    @Test
    void rejectsBytesLengthPastTheEnd() {
        byte[] b = bytes(new Frame.Auth(utf8("abc")));
        ByteBuffer.wrap(b).putInt(Frame.BODY_OFFSET, 4);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME).hasMessageContaining("data");
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 0x7F, 0xFF})
    void rejectsUnknownSlowConsumerPolicy(int policy) {
        byte[] b = bytes(new Frame.Sub(1, false, "s", null, SlowConsumerPolicy.DROP_OLDEST, 0));
        b[Frame.BODY_OFFSET + 3 + 2] = (byte) policy;
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME).hasMessageContaining("policy");
    }

    @Test
    void encodeRefusesStringsLongerThanAStr() {
        Frame.Pub tooLong = new Frame.Pub(1, false, "a".repeat(Codec.MAX_STRING_BYTES + 1), null, Map.of(), NONE);
        assertThatThrownBy(() -> Frames.encode(tooLong)).isInstanceOf(IllegalArgumentException.class);
        Frame.Pub longest = new Frame.Pub(1, false, "a".repeat(Codec.MAX_STRING_BYTES), null, Map.of(), NONE);
        assertThat(Frames.decode(Frames.encode(longest))).isEqualTo(longest);
    }

    // ---- enums -----------------------------------------------------------------------------------

    @Test
    void frameTypeCodesAreUniqueAndLookedUp() {
        for (FrameType t : FrameType.values()) {
            assertThat(FrameType.of(t.code())).isSameAs(t);
            assertThat(t.sentByClient() || t.sentByServer()).isTrue();
        }
        assertThat(FrameType.PING.sentByClient() && FrameType.PING.sentByServer()).isTrue();
        assertThat(FrameType.MSG.sentByClient()).isFalse();
        assertThat(FrameType.PUB.sentByServer()).isFalse();
    }

    @Test
    void errorCodesAreUniqueAndLookedUp() {
        for (ErrorCode e : ErrorCode.values()) {
            assertThat(ErrorCode.of(e.code())).isSameAs(e);
            assertThat(e.code()).isBetween(100, 999);
            assertThat(e.description()).isNotBlank();
        }
        assertThat(ErrorCode.of(-1)).isNull();
        assertThat(ErrorCode.of(0)).isNull();
        assertThat(ErrorCode.of(1000)).isNull();
        assertThat(ErrorCode.of(65_535)).isNull();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static Frame.Welcome welcome() {
        return new Frame.Welcome(1, 1 << 20, 256, 64, 10, 30, 90, 0, "", "", NONE);
    }

    private static void expectU31(Frame frame, int bodyOffset, String field) {
        byte[] b = bytes(frame);
        ByteBuffer.wrap(b).putInt(Frame.BODY_OFFSET + bodyOffset, 0x8000_0000);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME).hasMessageContaining(field)
                .hasMessageContaining("2147483648");
        ByteBuffer.wrap(b).putInt(Frame.BODY_OFFSET + bodyOffset, -1);
        expect(() -> Frames.decode(ByteBuffer.wrap(b)), ErrorCode.MALFORMED_FRAME).hasMessageContaining(field);
    }

    static AbstractThrowableAssert<?, ? extends Throwable> expect(Runnable decode, ErrorCode code) {
        return assertThatThrownBy(decode::run).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
    }

    /** Appends bytes to a frame's body and fixes its length field. */
    static byte[] appendToBody(byte[] frame, byte[] extra) {
        return insert(frame, frame.length, extra);
    }

    static byte[] insert(byte[] frame, int at, byte[] extra) {
        byte[] out = new byte[frame.length + extra.length];
        System.arraycopy(frame, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(frame, at, out, at + extra.length, frame.length - at);
        return withLength(out);
    }

    static byte[] withLength(byte[] frame) {
        ByteBuffer.wrap(frame).putInt(0, frame.length - Frame.PREFIX_BYTES);
        return frame;
    }
}
