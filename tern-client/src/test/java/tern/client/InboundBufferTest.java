package tern.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Frames;
import tern.protocol.ProtocolException;

class InboundBufferTest {
    private static final int CAPACITY = 4096;
    private static final int MAX_FRAME = 1 << 20;

    private static List<Frame> sample() {
        List<Frame> frames = new ArrayList<>();
        frames.add(new Frame.Ping(1));
        frames.add(new Frame.Msg(3, false, "a.b", null, Map.of(), "hello".getBytes(StandardCharsets.UTF_8)));
        frames.add(new Frame.Msg(4, false, "a.c", "_INBOX.x.1", Map.of("k", "v"), new byte[300]));
        frames.add(new Frame.Msg(5, false, "big", null, Map.of(), new byte[CAPACITY * 3 + 17]));
        frames.add(new Frame.Dropped(3, 12));
        frames.add(new Frame.Error(9, ErrorCode.BAD_SUBJECT.code(), false, "nope"));
        frames.add(new Frame.Msg(3, true, "_INBOX.x.2", null, Map.of(), new byte[0]));
        frames.add(new Frame.Pong(2));
        return frames;
    }

    private static byte[] wire(List<Frame> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame f : frames) {
            ByteBuffer b = Frames.encode(f);
            out.write(b.array(), 0, b.limit());
        }
        return out.toByteArray();
    }

    /** Feeds wire in chunks chosen by chunker, draining after each; returns decoded frames. */
    private static List<Frame> feed(byte[] wire, java.util.function.IntUnaryOperator chunker) {
        InboundBuffer in = new InboundBuffer(CAPACITY, MAX_FRAME);
        List<Frame> got = new ArrayList<>();
        InboundBuffer.FrameSink sink = (b, off, n) -> got.add(Frames.decode(b.duplicate().position(off).limit(off + n)));
        int p = 0;
        int step = 0;
        while (p < wire.length) {
            int want = Math.max(1, Math.min(chunker.applyAsInt(step++), wire.length - p));
            p += in.feed(wire, p, want);
            in.drain(sink, Integer.MAX_VALUE);
        }
        assertThat(in.bufferedBytes()).isZero();
        return got;
    }

    @Test
    @Timeout(10)
    void parsesFramesFedWhole() {
        List<Frame> frames = sample();
        byte[] wire = wire(frames);
        assertThat(feed(wire, i -> wire.length)).isEqualTo(frames);
    }

    @Test
    @Timeout(10)
    void parsesFramesFedByteByByte() {
        List<Frame> frames = sample();
        assertThat(feed(wire(frames), i -> 1)).isEqualTo(frames);
    }

    @Test
    @Timeout(10)
    void parsesFramesSplitAtEveryOffset() {
        List<Frame> frames = sample();
        byte[] wire = wire(frames);
        for (int split = 1; split < 200; split++) {
            int first = split;
            assertThat(feed(wire, i -> i == 0 ? first : 997)).isEqualTo(frames);
        }
    }

    @Test
    @Timeout(10)
    void parsesRandomChunks() {
        long seed = System.nanoTime();
        System.out.println("InboundBufferTest.parsesRandomChunks seed " + seed);
        Random random = new Random(seed);
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            frames.addAll(sample());
        }
        byte[] wire = wire(frames);
        assertThat(feed(wire, i -> 1 + random.nextInt(CAPACITY * 2))).isEqualTo(frames);
    }

    @Test
    @Timeout(10)
    void stopsAfterMaxFramesAndKeepsTheRest() {
        List<Frame> frames = sample().subList(0, 3);
        byte[] wire = wire(frames);
        InboundBuffer in = new InboundBuffer(CAPACITY, MAX_FRAME);
        in.feed(wire, 0, wire.length);
        List<Frame> got = new ArrayList<>();
        InboundBuffer.FrameSink sink = (b, off, n) -> got.add(Frames.decode(b.duplicate().position(off).limit(off + n)));
        assertThat(in.drain(sink, 1)).isEqualTo(1);
        assertThat(got).containsExactly(frames.get(0));
        assertThat(in.drain(sink, Integer.MAX_VALUE)).isEqualTo(2);
        assertThat(got).isEqualTo(frames);
    }

    @Test
    @Timeout(10)
    void rejectsFrameLongerThanNegotiatedMaxBeforeBufferingIt() {
        InboundBuffer in = new InboundBuffer(CAPACITY, 1024);
        byte[] wire = wire(List.of(new Frame.Msg(1, false, "a", null, Map.of(), new byte[2000])));
        in.feed(wire, 0, 4);
        assertThatThrownBy(() -> in.drain((b, off, n) -> { }, Integer.MAX_VALUE))
                .isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.BAD_FRAME_LENGTH));
    }

    @Test
    @Timeout(10)
    void rejectsLengthShorterThanAHeader() {
        InboundBuffer in = new InboundBuffer(CAPACITY, MAX_FRAME);
        in.feed(new byte[] {0, 0, 0, 3, 1, 2, 3}, 0, 7);
        assertThatThrownBy(() -> in.drain((b, off, n) -> { }, Integer.MAX_VALUE)).isInstanceOf(ProtocolException.class);
    }
}
