package tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static tern.protocol.FramesTest.expect;
import static tern.protocol.TestFrames.utf8;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class MessageLayoutTest {
    private static final int LEAD = 5; // the frame does not start at 0, to check offsets are absolute

    /** Every combination of REPLY, HEADERS, ACK (PUB) and NO_RESPONDERS (MSG), with exact offsets. */
    @Test
    void offsetsForEveryFlagCombination() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("ab", "cde");
        headers.put("f", "");
        int headerBlockBytes = 2 + (2 + 2) + (2 + 3) + (2 + 1) + (2 + 0);
        MessageLayout layout = new MessageLayout(); // reused on purpose: no state may leak between frames
        for (FrameType type : new FrameType[] {FrameType.PUB, FrameType.MSG}) {
            for (int flags = 0; flags < 256; flags++) {
                if ((flags & ~Flags.allowed(type)) != 0) {
                    continue;
                }
                boolean reply = (flags & Flags.REPLY) != 0;
                boolean hasHeaders = (flags & Flags.HEADERS) != 0;
                Map<String, String> h = hasHeaders ? headers : Map.of();
                Frame frame = type == FrameType.PUB
                        ? new Frame.Pub(3, (flags & Flags.ACK) != 0, "sub.ject", reply ? "in.box" : null, h, utf8("payload"))
                        : new Frame.Msg(3, (flags & Flags.NO_RESPONDERS) != 0, "sub.ject", reply ? "in.box" : null, h,
                        utf8("payload"));
                byte[] encoded = TestFrames.bytes(frame);
                assertThat(encoded[Frame.FLAGS_OFFSET] & 0xFF).isEqualTo(flags);
                ByteBuffer b = ByteBuffer.allocate(LEAD + encoded.length + 3).put(LEAD, encoded);

                layout.parse(b, LEAD, encoded.length, 256, 64);

                String what = type + " flags 0x" + Integer.toHexString(flags);
                int p = LEAD + Frame.BODY_OFFSET;
                assertThat(layout.subjectOffset()).as(what).isEqualTo(p + 2);
                assertThat(layout.subjectBytes()).as(what).isEqualTo(8);
                p += 2 + 8;
                assertThat(layout.hasReply()).as(what).isEqualTo(reply);
                if (reply) {
                    assertThat(layout.replyOffset()).as(what).isEqualTo(p + 2);
                    assertThat(layout.replyBytes()).as(what).isEqualTo(6);
                    p += 2 + 6;
                } else {
                    assertThat(layout.replyBytes()).as(what).isEqualTo(-1);
                    assertThat(layout.replyOffset()).as(what).isZero();
                }
                if (hasHeaders) {
                    assertThat(layout.headersOffset()).as(what).isEqualTo(p);
                    assertThat(layout.headersBytes()).as(what).isEqualTo(headerBlockBytes);
                    assertThat(layout.headerCount()).as(what).isEqualTo(2);
                    assertThat(Frames.decodeHeaders(b, layout.headersOffset(), layout.headersBytes()))
                            .containsExactlyEntriesOf(headers);
                    p += headerBlockBytes;
                } else {
                    assertThat(layout.headersOffset()).as(what).isZero();
                    assertThat(layout.headersBytes()).as(what).isZero();
                    assertThat(layout.headerCount()).as(what).isZero();
                }
                assertThat(layout.payloadOffset()).as(what).isEqualTo(p);
                assertThat(layout.payloadBytes()).as(what).isEqualTo(7);
                assertThat(p + 7).as(what).isEqualTo(LEAD + encoded.length);
                assertThat(Codec.utf8(b, layout.subjectOffset(), layout.subjectBytes())).isEqualTo("sub.ject");
                assertThat(Codec.utf8(b, layout.payloadOffset(), layout.payloadBytes())).isEqualTo("payload");
            }
        }
    }

    @Test
    void emptyPayloadAndEmptySubject() {
        byte[] encoded = TestFrames.bytes(new Frame.Pub(1, false, "", null, Map.of(), new byte[0]));
        MessageLayout layout = new MessageLayout().parse(ByteBuffer.wrap(encoded), 0, encoded.length, 256, 64);
        assertThat(layout.subjectBytes()).isZero();
        assertThat(layout.payloadOffset()).isEqualTo(encoded.length);
        assertThat(layout.payloadBytes()).isZero();
    }

    @Test
    void enforcesLimitsWithTheirCodes() {
        byte[] encoded = TestFrames.bytes(new Frame.Pub(1, false, "abcd", "efghi", Map.of("k", "v", "l", "w"),
                new byte[0]));
        ByteBuffer b = ByteBuffer.wrap(encoded);
        new MessageLayout().parse(b, 0, encoded.length, 5, 2);
        expect(() -> new MessageLayout().parse(b, 0, encoded.length, 3, 2), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("subject 4 bytes > max 3");
        expect(() -> new MessageLayout().parse(b, 0, encoded.length, 4, 2), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("reply 5 bytes > max 4");
        expect(() -> new MessageLayout().parse(b, 0, encoded.length, 5, 1), ErrorCode.LIMIT_EXCEEDED)
                .hasMessageContaining("header count 2 > max 1");
    }

    @Test
    void neverReadsPastTheFramesEnd() {
        byte[] encoded = TestFrames.bytes(new Frame.Msg(1, false, "abc", "r", Map.of("k", "v"), utf8("xyz")));
        int payloadStart = encoded.length - 3;
        ByteBuffer b = ByteBuffer.wrap(encoded);
        for (int frameBytes = Frame.BODY_OFFSET; frameBytes < payloadStart; frameBytes++) {
            int cut = frameBytes;
            expect(() -> new MessageLayout().parse(b, 0, cut, 256, 64), ErrorCode.MALFORMED_FRAME);
        }
        assertThat(new MessageLayout().parse(b, 0, payloadStart, 256, 64).payloadBytes()).isZero();
    }
}
