package tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Property tests of the codec: arbitrary frames of every type round trip, and no input, random or a
 * mutated valid frame, makes the decoder throw anything but ProtocolException. jqwik prints each
 * property's seed in its report; the fuzz loop prints its own.
 */
@PropertyTimeout(seconds = 120)
class FramesProperties {

    // ---- properties ------------------------------------------------------------------------------

    @Property(tries = 2000)
    void framesRoundTrip(@ForAll("frames") Frame frame) {
        ByteBuffer encoded = Frames.encode(frame);
        assertThat(encoded.remaining()).isEqualTo(Frames.encodedBytes(frame));
        assertThat(Frames.decode(encoded)).isEqualTo(frame);
        byte[] bytes = TestFrames.bytes(frame);
        assertThat(Frames.decodeAll(bytes)).containsExactly(frame);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        assertThat(Frames.decode(direct)).isEqualTo(frame);
    }

    @Property(tries = 2000)
    void noiseFailsCleanly(@ForAll byte[] noise) {
        assertFailsCleanly(() -> Frames.decodeAll(noise));
        assertFailsCleanly(() -> Frames.decode(ByteBuffer.wrap(noise)));
        assertFailsCleanly(() -> Frames.decode(ByteBuffer.wrap(noise), Limits.DEFAULT));
    }

    /** Noise behind a header that passes the header checks, so the body parsers are reached. */
    @Property(tries = 3000)
    void noiseBodiesFailCleanly(@ForAll("types") FrameType type, @ForAll int id, @ForAll @Size(max = 120) byte[] body,
                                @ForAll int flagBits) {
        ByteBuffer b = ByteBuffer.allocate(Frame.BODY_OFFSET + body.length);
        Frames.putHeader(b, Frame.HEADER_BYTES + body.length, type, flagBits & Flags.allowed(type), id);
        b.put(body).flip();
        assertDecodesCleanly(b.array());
    }

    @Property(tries = 3000)
    void mutatedFramesFailCleanly(@ForAll("frames") Frame frame, @ForAll Random random) {
        byte[] mutated = mutate(random, TestFrames.bytes(frame));
        assertDecodesCleanly(mutated);
    }

    /** Anything the decoder accepts is stable: re-encoding it decodes to the same frame. */
    private static void assertDecodesCleanly(byte[] bytes) {
        List<Frame> decoded;
        try {
            decoded = Frames.decodeAll(bytes);
        } catch (ProtocolException e) {
            assertThat(e.code()).isNotNull();
            return;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("decoding " + TestFrames.hex(bytes) + " threw " + e, e);
        }
        for (Frame f : decoded) {
            assertThat(Frames.decode(Frames.encode(f))).isEqualTo(f);
        }
    }

    private static void assertFailsCleanly(Runnable decode) {
        Throwable thrown = catchThrowable(decode::run);
        if (thrown != null) {
            assertThat(thrown).isInstanceOf(ProtocolException.class);
        }
    }

    // ---- the bounded fuzz loop -------------------------------------------------------------------

    /**
     * 100k inputs, random or mutated valid frames, streamed in random chunks through a FrameDecoder
     * and Frames.decode as a connection would: only ProtocolException may escape, and the decoder
     * never reports a frame larger than its maximum.
     */
    @Test
    @Timeout(300)
    void fuzzDecoderAndCodec() {
        long seed = TestFrames.seed("FramesProperties.fuzzDecoderAndCodec");
        Random r = new Random(seed);
        int[] maxima = {Frame.HEADER_BYTES, 64, 512, Limits.DEFAULT.maxPreAuthFrameBytes(), Limits.DEFAULT.maxFrameBytes()};
        Map<Integer, ByteBuffer> buffers = new HashMap<>();
        int rejected = 0;
        int frames = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] input = r.nextInt(4) == 0
                    ? TestFrames.randomBytes(r, 300)
                    : mutate(r, TestFrames.bytes(TestFrames.random(r, 1 + r.nextInt(4), r.nextInt(10) == 0 ? 3000 : 40)));
            int max = maxima[r.nextInt(maxima.length)];
            Limits limits = r.nextBoolean() ? Limits.DEFAULT : null;
            ByteBuffer buffer = buffers.computeIfAbsent(max, m -> ByteBuffer.allocate(Frame.PREFIX_BYTES + m)).clear();
            FrameDecoder decoder = new FrameDecoder(max);
            try {
                frames += stream(r, input, decoder, buffer, limits);
            } catch (ProtocolException e) {
                rejected++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("seed " + seed + " iteration " + i + " max " + max + " input "
                        + TestFrames.hex(input) + ": " + e, e);
            }
        }
        System.out.println("fuzz: " + frames + " frames decoded, " + rejected + " inputs rejected");
        assertThat(frames).as("the fuzz loop reaches valid frames").isPositive();
        assertThat(rejected).as("the fuzz loop reaches invalid frames").isPositive();
    }

    /** Feeds input in random chunks into a bounded buffer, decoding every whole frame. Returns frames decoded. */
    private static int stream(Random r, byte[] input, FrameDecoder decoder, ByteBuffer buffer, Limits limits) {
        int decoded = 0;
        int offset = 0;
        while (offset < input.length) {
            int chunk = Math.min(Math.min(input.length - offset, 1 + r.nextInt(64)), buffer.remaining());
            if (chunk == 0) {
                fail("buffer of " + buffer.capacity() + " bytes full and no frame found: the decoder let an "
                        + "oversized frame through");
            }
            buffer.put(input, offset, chunk);
            offset += chunk;
            int start = 0;
            int n;
            while ((n = decoder.nextFrameBytes(buffer, start, buffer.position() - start)) != FrameDecoder.NEED_MORE) {
                if (n - Frame.PREFIX_BYTES > decoder.maxFrameBytes() || n < Frame.BODY_OFFSET) {
                    fail("decoder reported a frame of " + n + " bytes, max " + decoder.maxFrameBytes());
                }
                ByteBuffer frame = buffer.duplicate().position(start).limit(start + n);
                Frame f = limits == null ? Frames.decode(frame) : Frames.decode(frame, limits);
                if (f.type().code() != (frame.get(start + Frame.TYPE_OFFSET) & 0xFF)) {
                    fail("decoded " + f + " from a frame of type byte " + frame.get(start + Frame.TYPE_OFFSET));
                }
                if (!Frames.decode(Frames.encode(f)).equals(f)) {
                    fail("decoded " + f + " does not survive re-encoding");
                }
                decoded++;
                start += n;
            }
            buffer.limit(buffer.position()).position(start).compact();
        }
        return decoded;
    }

    /** One to four random byte flips, insertions and deletions; sometimes fixes the length field after. */
    static byte[] mutate(Random r, byte[] original) {
        byte[] b = original;
        int mutations = 1 + r.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            int op = r.nextInt(b.length == 0 ? 1 : 4);
            if (op == 0) { // insert
                int at = r.nextInt(b.length + 1);
                byte[] out = new byte[b.length + 1];
                System.arraycopy(b, 0, out, 0, at);
                out[at] = (byte) r.nextInt(256);
                System.arraycopy(b, at, out, at + 1, b.length - at);
                b = out;
            } else if (op == 1) { // delete
                int at = r.nextInt(b.length);
                byte[] out = new byte[b.length - 1];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + 1, out, at, b.length - at - 1);
                b = out;
            } else if (op == 2) { // flip a bit
                int at = r.nextInt(b.length);
                b = b.clone();
                b[at] ^= (byte) (1 << r.nextInt(8));
            } else { // overwrite with an interesting byte
                int at = r.nextInt(b.length);
                b = b.clone();
                b[at] = (byte) new int[] {0x00, 0xFF, 0x7F, 0x80, 0x01}[r.nextInt(5)];
            }
        }
        if (b.length >= Frame.BODY_OFFSET && r.nextBoolean()) {
            // keep the first frame's length consistent so that mutations reach the body parsers
            ByteBuffer.wrap(b).putInt(0, b.length - Frame.PREFIX_BYTES);
        }
        return b;
    }

    // ---- generators ------------------------------------------------------------------------------

    @Provide
    Arbitrary<FrameType> types() {
        return Arbitraries.of(FrameType.class);
    }

    @Provide
    Arbitrary<Frame> frames() {
        return Arbitraries.oneOf(List.of(hello(), welcome(), auth(), challenge(), ping(), pong(), goAway(), error(),
                ok(), pub(), sub(), unsub(), msg(), dropped(), queueFrames()));
    }

    private static Arbitrary<String> text(int maxChars) {
        return Arbitraries.strings().withCharRange('\u0000', '\u007f').withCharRange('\u00a0', '\u07ff')
                .withCharRange('\u4e00', '\u4fff').withChars('\uffff', '\u2028').ofMaxLength(maxChars);
    }

    private static Arbitrary<byte[]> data() {
        return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(64),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(200_000));
    }

    private static Arbitrary<Integer> u16() {
        return Arbitraries.integers().between(0, 0xFFFF);
    }

    private static Arbitrary<Integer> u31() {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE);
    }

    private static Arbitrary<Integer> anyInt() {
        return Arbitraries.integers();
    }

    private static Arbitrary<Map<String, String>> headers() {
        return Arbitraries.oneOf(Arbitraries.just(Map.of()), Arbitraries.maps(text(20), text(60)).ofMaxSize(10));
    }

    private static Arbitrary<Frame> hello() {
        return Combinators.combine(u16(), u16(), u31(), anyInt(), text(40), text(20), text(20), data())
                .as(Frame.Hello::new);
    }

    private static Arbitrary<Frame> welcome() {
        Arbitrary<List<Integer>> numbers = Combinators.combine(List.of(u16(), u31(), u16(), u16(), u31(), u31(), u31(),
                anyInt())).as(l -> l);
        return Combinators.combine(numbers, text(40), text(20), data()).as((n, id, version, auth) ->
                new Frame.Welcome(n.get(0), n.get(1), n.get(2), n.get(3), n.get(4), n.get(5), n.get(6), n.get(7), id,
                        version, auth));
    }

    private static Arbitrary<Frame> auth() {
        return data().map(Frame.Auth::new);
    }

    private static Arbitrary<Frame> challenge() {
        return data().map(Frame.Challenge::new);
    }

    private static Arbitrary<Frame> ping() {
        return anyInt().map(Frame.Ping::new);
    }

    private static Arbitrary<Frame> pong() {
        return anyInt().map(Frame.Pong::new);
    }

    private static Arbitrary<Frame> ok() {
        return anyInt().map(Frame.Ok::new);
    }

    private static Arbitrary<Frame> goAway() {
        return Combinators.combine(u16(), u31(), text(200)).as(Frame.GoAway::new);
    }

    private static Arbitrary<Frame> error() {
        return Combinators.combine(anyInt(), u16(), Arbitraries.of(true, false), text(200)).as(Frame.Error::new);
    }

    private static Arbitrary<Frame> pub() {
        return Combinators.combine(anyInt(), Arbitraries.of(true, false), text(300), text(300).injectNull(0.5),
                headers(), data()).as(Frame.Pub::new);
    }

    private static Arbitrary<Frame> msg() {
        return Combinators.combine(anyInt(), Arbitraries.of(true, false), text(300), text(300).injectNull(0.5),
                headers(), data()).as(Frame.Msg::new);
    }

    private static Arbitrary<Frame> sub() {
        return Combinators.combine(anyInt(), Arbitraries.of(true, false), text(300), text(40).injectNull(0.5),
                Arbitraries.of(SlowConsumerPolicy.class), u31()).as(Frame.Sub::new);
    }

    private static Arbitrary<Frame> unsub() {
        return Combinators.combine(anyInt(), Arbitraries.of(true, false), u31()).as(Frame.Unsub::new);
    }

    /** Queue frames (0x20..0x2E), from seeded random generation (TestFrames.random covers each type). */
    private static Arbitrary<Frame> queueFrames() {
        return Arbitraries.longs().map(seed -> {
            Random r = new Random(seed);
            Frame f;
            do {
                f = TestFrames.random(r, 200);
            } while (f.type().code() < 0x20);
            return f;
        });
    }

    private static Arbitrary<Frame> dropped() {
        return Combinators.combine(anyInt(), Arbitraries.longs()).as(Frame.Dropped::new);
    }
}
