package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Tern;
import tern.protocol.ErrorCode;
import tern.protocol.Flags;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.testkit.BrokerLogGuard;
import tern.testkit.RawConnection;

/**
 * Lengths and counts a stranger declares: a 2 GB frame (before and after WELCOME), a HELLO past
 * maxPreAuthFrameBytes, a header count of 65,535, a subject length of 65,535. Each is answered
 * within 1 s from its first bytes (the broker does not wait for, or buffer, what was announced),
 * repeated 200 times costs bounded heap, and a good client keeps being served.
 */
@Timeout(120)
class HostileSizesIT {
    static final Duration ANSWER = Duration.ofSeconds(1);
    static final int REPEATS = 200;
    static final long MAX_HEAP_GROWTH_BYTES = 16L << 20;

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static java.nio.file.Path data;

    private TernBroker broker;
    private Connection responder;
    private Connection requester;

    @BeforeEach
    void start() {
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(data));
        responder = Tern.connect(ConnectOptions.builder().port(broker.port()).build());
        requester = Tern.connect(ConnectOptions.builder().port(broker.port()).build());
        HostileTestSupport.echo(responder, "svc.echo");
    }

    @AfterEach
    void stop() {
        requester.close();
        responder.close();
        broker.close();
    }

    /** Header (12 bytes) of a frame whose length field says bodyBytes. */
    static ByteBuffer header(int bodyBytes, FrameType type, int flags, int id) {
        return ByteBuffer.allocate(Frame.BODY_OFFSET).putInt(bodyBytes).put((byte) type.code()).put((byte) flags)
                .putShort((short) 0).putInt(id).flip();
    }

    static byte[] bytes(ByteBuffer... parts) {
        int n = Arrays.stream(parts).mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer out = ByteBuffer.allocate(n);
        for (ByteBuffer p : parts) {
            out.put(p.duplicate());
        }
        return out.array();
    }

    /** Sends bytes, expects ERROR(code) within 1 s, then (when the code closes) the close within 1 s. */
    private long expectAnswer(RawConnection c, byte[] send, ErrorCode code) throws IOException {
        long start = System.nanoTime();
        c.sendBytes(send);
        Frame.Error error = c.receive(Frame.Error.class, ANSWER);
        assertThat(error).as("ERROR %s within %s", code, ANSWER).isNotNull();
        assertThat(ErrorCode.of(error.code())).isEqualTo(code);
        if (code.closesConnection()) {
            assertThat(c.awaitClosed(ANSWER)).as("closed within %s after %s", ANSWER, code).isTrue();
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    private void check(String name, boolean handshake, byte[] send, ErrorCode code) throws Exception {
        long maxMillis = 0;
        long before = HostileTestSupport.heapBytes();
        for (int i = 0; i < REPEATS; i++) {
            try (RawConnection c = handshake ? RawConnection.handshake("127.0.0.1", broker.port())
                    : RawConnection.open("127.0.0.1", broker.port())) {
                maxMillis = Math.max(maxMillis, expectAnswer(c, send, code));
            }
            if (i % 50 == 0) {
                HostileTestSupport.p99Micros(requester, "svc.echo", 5);
            }
        }
        long growth = HostileTestSupport.heapBytes() - before;
        long p99 = HostileTestSupport.p99Micros(requester, "svc.echo", 100);
        System.out.printf("HostileSizesIT %-40s x%d: answered %s in <= %d ms, heap growth %d bytes, good client p99 %d us%n",
                name, REPEATS, code, maxMillis, growth, p99);
        assertThat(growth).isLessThan(MAX_HEAP_GROWTH_BYTES);
        assertThat(HostileTestSupport.poll(Duration.ofSeconds(5), () -> broker.stats().connections() == 2)).isTrue();
    }

    @Test
    void twoGigabyteFrameBeforeWelcomeIsRefusedFromItsLengthAlone() throws Exception {
        byte[] send = bytes(ByteBuffer.wrap(Frame.PREFACE), ByteBuffer.allocate(4).putInt(0, Integer.MAX_VALUE));
        check("2 GB frame before WELCOME", false, send, ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void twoGigabyteFrameAfterWelcomeIsRefusedFromItsLengthAlone() throws Exception {
        check("2 GB frame after WELCOME", true, bytes(header(Integer.MAX_VALUE, FrameType.PUB, 0, 0)),
                ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void helloLargerThanThePreAuthLimitIsRefused() throws Exception {
        int body = broker.config().limits().maxPreAuthFrameBytes() + 1;
        byte[] send = bytes(ByteBuffer.wrap(Frame.PREFACE), header(body, FrameType.HELLO, 0, 0));
        check("HELLO of maxPreAuthFrameBytes + 1", false, send, ErrorCode.BAD_FRAME_LENGTH);
    }

    @Test
    void headerCountBeyondTheFrameIsMalformed() throws Exception {
        ByteBuffer body = ByteBuffer.allocate(2 + 1 + 2 + 4);
        body.putShort((short) 1).put((byte) 'a').putShort((short) 0xFFFF).putInt(0).flip();
        check("header count 65535 in a 9-byte body", true,
                bytes(header(Frame.HEADER_BYTES + body.remaining(), FrameType.PUB, Flags.HEADERS, 0), body),
                ErrorCode.MALFORMED_FRAME);
    }

    @Test
    void headerCountAboveTheLimitIsRefused() throws Exception {
        int count = 0xFFFF;
        ByteBuffer body = ByteBuffer.allocate(2 + 1 + 2 + count * 4);
        body.putShort((short) 1).put((byte) 'a').putShort((short) count);
        for (int i = 0; i < count; i++) {
            body.putShort((short) 0).putShort((short) 0);
        }
        body.flip();
        // Paranoid leak detection records a stack trace on every read of a buffer: the broker's walk
        // over 131,070 header fields then takes ~1.7 s instead of ~10 ms. SIMPLE still detects leaks.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        try {
            // protocol.md section 11: LIMIT_EXCEEDED keeps the connection open
            check("65535 headers (262 KB frame)", true,
                    bytes(header(Frame.HEADER_BYTES + body.remaining(), FrameType.PUB, Flags.HEADERS, 0), body),
                    ErrorCode.LIMIT_EXCEEDED);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    @Test
    void subjectLengthBeyondTheFrameIsMalformed() throws Exception {
        ByteBuffer body = ByteBuffer.allocate(2 + 8).putShort((short) 0xFFFF).put("orders.x".getBytes(StandardCharsets.US_ASCII)).flip();
        check("subject length 65535 in a 10-byte body", true,
                bytes(header(Frame.HEADER_BYTES + body.remaining(), FrameType.PUB, 0, 0), body),
                ErrorCode.MALFORMED_FRAME);
    }

    @Test
    void subjectOfSixtyFiveThousandBytesIsRefused() throws Exception {
        byte[] subject = new byte[0xFFFF];
        Arrays.fill(subject, (byte) 'a');
        ByteBuffer body = ByteBuffer.allocate(2 + subject.length).putShort((short) subject.length).put(subject).flip();
        // protocol.md section 11: BAD_SUBJECT keeps the connection open
        check("subject of 65535 bytes", true,
                bytes(header(Frame.HEADER_BYTES + body.remaining(), FrameType.PUB, 0, 0), body),
                ErrorCode.BAD_SUBJECT);
    }
}
