package tern.broker.guard;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.time.Duration;
import tern.broker.session.Sessions;
import tern.broker.tls.FirstBytesDetector;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.FrameDecoder;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;

/**
 * Coverage-guided fuzz tests (Jazzer). Without JAZZER_FUZZ=1 they run in regression mode: each
 * input under src/test/resources/tern/broker/guard/FrameFuzzTestInputs/&lt;method&gt;/ once, plus an
 * empty input, in the ordinary build. To fuzz for real (docs/security.md, "Fuzzing"):
 * {@code JAZZER_FUZZ=1 mvn -pl tern-broker -am test -Dtest=FrameFuzzTest#sessionSurvivesAnyInput
 * -Dsurefire.failIfNoSpecifiedTests=false}; a crash is written as a new input there.
 */
class FrameFuzzTest {
    private static final Limits LIMITS = Limits.DEFAULT;

    /** The decoder and Frames.decode: any bytes give a frame, NEED_MORE, or ProtocolException; nothing else. */
    @FuzzTest(maxDuration = "30s")
    void decoderFailsOnlyWithProtocolException(byte[] input) {
        ByteBuffer in = ByteBuffer.wrap(input);
        FrameDecoder decoder = new FrameDecoder(LIMITS.maxFrameBytes());
        int offset = 0;
        while (offset < input.length) {
            int n;
            try {
                n = decoder.nextFrameBytes(in, offset, input.length - offset);
            } catch (ProtocolException e) {
                assertThat(e.code()).isNotNull();
                return;
            }
            if (n == FrameDecoder.NEED_MORE) {
                return;
            }
            assertThat(n).isBetween(Frame.PREFIX_BYTES + Frame.HEADER_BYTES, input.length - offset);
            try {
                Frame f = Frames.decode(ByteBuffer.wrap(input, offset, n).slice(), LIMITS);
                // What decodes re-encodes to a frame that decodes to the same thing.
                assertThat(Frames.decode(Frames.encode(f), LIMITS)).isEqualTo(f);
            } catch (ProtocolException e) {
                assertThat(e.code()).isNotNull();
            }
            offset += n;
        }
    }

    /**
     * The broker's pipeline (first-byte detector + session) on an EmbeddedChannel fed the preface and
     * then the fuzzer's bytes: it may answer and close, but never throws, never answers
     * INTERNAL_ERROR, and never leaks a buffer (surefire runs with paranoid leak detection).
     */
    @FuzzTest(maxDuration = "30s")
    void sessionSurvivesAnyInput(byte[] input) throws Exception {
        Sessions sessions = new Sessions(LIMITS, "fuzz", "0");
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.pipeline().addLast("detect", new FirstBytesDetector(null, false, Duration.ofSeconds(5)));
        ch.pipeline().addLast("session", sessions.newSession(ch));
        ch.register();
        try {
            // Half the inputs get a valid preface first, so the fuzzer reaches the frame states quickly.
            boolean withPreface = input.length > 0 && (input[0] & 1) == 1;
            if (withPreface) {
                ch.writeInbound(Unpooled.wrappedBuffer(Frame.PREFACE));
            }
            int offset = withPreface ? 1 : 0;
            // Split the rest into chunks of varying size, as reads would deliver it.
            while (offset < input.length && ch.isActive()) {
                int chunk = 1 + (input[offset] & 0x3F);
                int end = Math.min(input.length, offset + chunk);
                ch.writeInbound(Unpooled.copiedBuffer(input, offset, end - offset));
                offset = end;
                ch.runPendingTasks();
            }
            ch.checkException();
            for (Object out; (out = ch.readOutbound()) != null; ) {
                ByteBuf b = (ByteBuf) out;
                try {
                    if (b.readableBytes() >= Frame.BODY_OFFSET) {
                        ByteBuffer frames = b.nioBuffer();
                        FrameDecoder decoder = new FrameDecoder(Limits.ABSOLUTE_MAX_FRAME_BYTES);
                        int p = 0;
                        while (p < frames.limit()) {
                            int n = decoder.nextFrameBytes(frames, p, frames.limit() - p);
                            if (n == FrameDecoder.NEED_MORE) {
                                break;
                            }
                            Frame f = Frames.decode(ByteBuffer.wrap(bytes(frames, p, n)));
                            if (f instanceof Frame.Error e) {
                                assertThat(e.code()).isNotEqualTo(ErrorCode.INTERNAL_ERROR.code());
                            }
                            p += n;
                        }
                    }
                } finally {
                    b.release();
                }
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static byte[] bytes(ByteBuffer b, int offset, int n) {
        byte[] out = new byte[n];
        b.duplicate().position(offset).get(out);
        return out;
    }
}
