package tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static tern.protocol.FramesTest.expect;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(20)
class FrameDecoderTest {
    private static final int MAX = 1 << 20;

    /**
     * A connection's read loop as the broker and client run it: append what arrived to a bounded
     * buffer, take every whole frame out, keep the rest.
     */
    private static final class Reader {
        final FrameDecoder decoder;
        final ByteBuffer buffer;
        final List<Frame> frames = new ArrayList<>();

        Reader(int maxFrameBytes) {
            decoder = new FrameDecoder(maxFrameBytes);
            buffer = ByteBuffer.allocate(Frame.PREFIX_BYTES + maxFrameBytes);
        }

        void receive(byte[] chunk, int offset, int length) {
            buffer.put(chunk, offset, length);
            int start = 0;
            int n;
            while ((n = decoder.nextFrameBytes(buffer, start, buffer.position() - start)) != FrameDecoder.NEED_MORE) {
                assertThat(n - Frame.PREFIX_BYTES).isBetween(Frame.HEADER_BYTES, decoder.maxFrameBytes());
                frames.add(Frames.decode(buffer.duplicate().position(start).limit(start + n)));
                start += n;
            }
            buffer.limit(buffer.position()).position(start).compact();
        }
    }

    @Test
    void wholeFrame() {
        byte[] b = TestFrames.bytes(new Frame.Pub(1, false, "a.b", null, java.util.Map.of(), new byte[100]));
        FrameDecoder decoder = new FrameDecoder(MAX);
        assertThat(decoder.nextFrameBytes(ByteBuffer.wrap(b), 0, b.length)).isEqualTo(b.length);
        assertThat(decoder.nextFrameBytes(ByteBuffer.wrap(b), 0, b.length + 50)).isEqualTo(b.length);
    }

    @Test
    void byteByByte() {
        List<Frame> frames = TestFrames.examples();
        byte[] all = TestFrames.bytes(frames);
        Reader reader = new Reader(MAX);
        for (int i = 0; i < all.length; i++) {
            reader.receive(all, i, 1);
        }
        assertThat(reader.frames).containsExactlyElementsOf(frames);
        assertThat(reader.buffer.position()).isZero();
    }

    @Test
    void needsMoreUntilTheLastByteOfEachFrame() {
        byte[] b = TestFrames.bytes(new Frame.Unsub(3, true, 9));
        FrameDecoder decoder = new FrameDecoder(MAX);
        for (int available = 0; available < b.length; available++) {
            assertThat(decoder.nextFrameBytes(ByteBuffer.wrap(b), 0, available)).as("available " + available)
                    .isEqualTo(FrameDecoder.NEED_MORE);
        }
        assertThat(decoder.nextFrameBytes(ByteBuffer.wrap(b), 0, b.length)).isEqualTo(b.length);
    }

    @Test
    void packedFramesInOneBuffer() {
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            frames.add(i % 2 == 0 ? new Frame.Ping(i) : new Frame.Msg(i, false, "s." + i, null, java.util.Map.of(),
                    TestFrames.utf8("payload " + i)));
        }
        byte[] all = TestFrames.bytes(frames);
        ByteBuffer b = ByteBuffer.wrap(all);
        FrameDecoder decoder = new FrameDecoder(MAX);
        List<Frame> decoded = new ArrayList<>();
        int offset = 0;
        int n;
        while ((n = decoder.nextFrameBytes(b, offset, all.length - offset)) != FrameDecoder.NEED_MORE) {
            decoded.add(Frames.decode(b.duplicate().position(offset).limit(offset + n)));
            offset += n;
        }
        assertThat(offset).isEqualTo(all.length);
        assertThat(decoded).containsExactlyElementsOf(frames);
        assertThat(b.position()).as("the decoder reads with absolute offsets").isZero();
    }

    @Test
    void splitAcrossBuffersAtRandomPoints() {
        long seed = TestFrames.seed("FrameDecoderTest.splitAcrossBuffersAtRandomPoints");
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            List<Frame> frames = TestFrames.random(random, 1 + random.nextInt(20), random.nextInt(3) == 0 ? 5000 : 50);
            byte[] all = TestFrames.bytes(frames);
            Reader reader = new Reader(MAX);
            int offset = 0;
            while (offset < all.length) {
                int chunk = Math.min(all.length - offset, 1 + random.nextInt(random.nextBoolean() ? 7 : 3000));
                reader.receive(all, offset, chunk);
                offset += chunk;
            }
            assertThat(reader.frames).as("seed " + seed + " round " + round).containsExactlyElementsOf(frames);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x8000_0000, 0xFFFF_FFFF, 0x7FFF_FFFF, Limits.ABSOLUTE_MAX_FRAME_BYTES + 1, MAX + 1})
    void rejectsAHugeLengthFromItsFirstFourBytes(int length) {
        ByteBuffer b = ByteBuffer.allocate(4).putInt(0, length);
        expect(() -> new FrameDecoder(MAX).nextFrameBytes(b, 0, 4), ErrorCode.BAD_FRAME_LENGTH)
                .hasMessageContaining(Integer.toUnsignedString(length)).hasMessageContaining("8.." + MAX);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4, 7})
    void rejectsALengthBelowTheHeaderFromItsFirstFourBytes(int length) {
        ByteBuffer b = ByteBuffer.allocate(4).putInt(0, length);
        expect(() -> new FrameDecoder(MAX).nextFrameBytes(b, 0, 4), ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void fewerThanFourBytesNeedMoreWhateverTheyAre() {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        FrameDecoder decoder = new FrameDecoder(MAX);
        for (int available = 0; available < 4; available++) {
            assertThat(decoder.nextFrameBytes(b, 0, available)).isEqualTo(FrameDecoder.NEED_MORE);
        }
    }

    @Test
    void acceptsALengthOfExactlyTheMaximum() {
        FrameDecoder decoder = new FrameDecoder(100);
        ByteBuffer b = ByteBuffer.allocate(200).putInt(0, 100);
        assertThat(decoder.nextFrameBytes(b, 0, 4)).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(decoder.nextFrameBytes(b, 0, 104)).isEqualTo(104);
        b.putInt(0, 101);
        expect(() -> decoder.nextFrameBytes(b, 0, 4), ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void readsAtAnOffset() {
        byte[] ping = TestFrames.bytes(new Frame.Ping(5));
        ByteBuffer b = ByteBuffer.allocate(30);
        b.put(9, ping);
        assertThat(new FrameDecoder(MAX).nextFrameBytes(b, 9, 21)).isEqualTo(ping.length);
    }

    @Test
    void maximumIsRaisedAfterTheHandshake() {
        FrameDecoder decoder = new FrameDecoder(Limits.DEFAULT.maxPreAuthFrameBytes());
        ByteBuffer b = ByteBuffer.allocate(4).putInt(0, 10_000);
        expect(() -> decoder.nextFrameBytes(b, 0, 4), ErrorCode.BAD_FRAME_LENGTH);
        decoder.setMaxFrameBytes(Limits.DEFAULT.maxFrameBytes());
        assertThat(decoder.maxFrameBytes()).isEqualTo(1 << 20);
        assertThat(decoder.nextFrameBytes(b, 0, 4)).isEqualTo(FrameDecoder.NEED_MORE);
    }

    @Test
    void checkedFrameBytesAppliesTheSameRule() {
        FrameDecoder decoder = new FrameDecoder(100);
        assertThat(decoder.checkedFrameBytes(8, 12)).isEqualTo(12);
        assertThat(decoder.checkedFrameBytes(8, 11)).isEqualTo(FrameDecoder.NEED_MORE);
        expect(() -> decoder.checkedFrameBytes(7, 100), ErrorCode.BAD_FRAME_LENGTH);
        expect(() -> decoder.checkedFrameBytes(101, 200), ErrorCode.BAD_FRAME_LENGTH);
        expect(() -> decoder.checkedFrameBytes(-1, 200), ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void refusesAMaximumOutsideTheFormat() {
        assertThatThrownBy(() -> new FrameDecoder(7)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FrameDecoder(Limits.ABSOLUTE_MAX_FRAME_BYTES + 1))
                .isInstanceOf(IllegalArgumentException.class);
        FrameDecoder decoder = new FrameDecoder(8);
        assertThatThrownBy(() -> decoder.setMaxFrameBytes(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(decoder.maxFrameBytes()).isEqualTo(8);
    }
}
