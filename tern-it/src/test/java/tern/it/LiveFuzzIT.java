package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
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
import tern.protocol.Frame;
import tern.protocol.FrameDecoder;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.SlowConsumerPolicy;
import tern.testkit.BrokerLogGuard;

/**
 * Random, mutated and truncated frames, and valid frames in states where they are not allowed,
 * against a live broker: a bounded number of seeded cases (the seed is printed; rerun one with
 * {@code -Dtern.fuzz.seed=N}). The broker must answer only with well-formed frames, never with
 * INTERNAL_ERROR, never log an unexpected ERROR (BrokerLogGuard), and keep serving a good client.
 */
@Timeout(300)
class LiveFuzzIT {
    static final int CASES = Integer.getInteger("tern.fuzz.cases", 1_500);
    static final Duration QUIET = Duration.ofMillis(30);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static Path data;

    @Test
    void brokerSurvivesRandomMutatedAndMisplacedFrames() throws Exception {
        long seed = Long.getLong("tern.fuzz.seed", System.nanoTime());
        System.out.println("LiveFuzzIT seed " + seed + ", " + CASES + " cases (rerun with -Dtern.fuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        BrokerConfig config = BrokerConfig.defaults().withPort(0).withDataDir(data)
                .withLimits(Limits.DEFAULT.withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(90)));
        Map<String, Integer> answers = new TreeMap<>();
        List<String> bad = new ArrayList<>();
        try (TernBroker broker = TernBroker.start(config);
             Connection responder = Tern.connect(ConnectOptions.builder().port(broker.port()).reconnect(false).build());
             Connection requester = Tern.connect(ConnectOptions.builder().port(broker.port()).reconnect(false).build())) {
            HostileTestSupport.echo(responder, "svc.echo");
            for (int i = 0; i < CASES; i++) {
                long caseSeed = random.nextLong();
                Random r = new Random(caseSeed);
                byte[] input = generate(r);
                List<Frame> received = new ArrayList<>();
                String problem = exchange(broker.port(), input, r.nextInt(4) == 0, received);
                for (Frame f : received) {
                    String key = f instanceof Frame.Error e ? "ERROR " + ErrorCode.of(e.code()) : f.type().toString();
                    answers.merge(key, 1, Integer::sum);
                    if (f instanceof Frame.Error e && (ErrorCode.of(e.code()) == null
                            || e.code() == ErrorCode.INTERNAL_ERROR.code())) {
                        problem = "error code " + e.code() + ": " + e.text();
                    }
                }
                if (problem != null) {
                    bad.add("case " + i + " (case seed " + caseSeed + "): " + problem);
                }
                if (i % 100 == 99) {
                    HostileTestSupport.p99Micros(requester, "svc.echo", 10);
                }
            }
            HostileTestSupport.p99Micros(requester, "svc.echo", 100);
            boolean drained = HostileTestSupport.poll(Duration.ofSeconds(10), () -> broker.stats().connections() == 2);
            System.out.println("LiveFuzzIT answers: " + answers + "; problems: " + bad.size());
            assertThat(bad).isEmpty();
            assertThat(drained).as("every fuzz connection closed").isTrue();
        }
    }

    /** Sends input (optionally split into random small writes), then collects frames until close or QUIET. */
    private static String exchange(int port, byte[] input, boolean trickle, List<Frame> received) throws IOException {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            try {
                if (trickle) {
                    for (int off = 0; off < input.length; off += 7) {
                        s.getOutputStream().write(input, off, Math.min(7, input.length - off));
                    }
                } else {
                    s.getOutputStream().write(input);
                }
            } catch (IOException e) {
                return null; // closed by the broker mid-write: allowed
            }
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            FrameDecoder decoder = new FrameDecoder(Limits.ABSOLUTE_MAX_FRAME_BYTES);
            InputStream in = s.getInputStream();
            s.setSoTimeout((int) QUIET.toMillis());
            while (true) {
                int n;
                try {
                    n = in.read(buf.array(), buf.position(), buf.remaining());
                } catch (SocketTimeoutException e) {
                    break;
                } catch (IOException e) {
                    break; // reset: the broker closed
                }
                if (n < 0) {
                    break;
                }
                buf.position(buf.position() + n);
                while (true) {
                    int frameBytes;
                    try {
                        frameBytes = decoder.nextFrameBytes(buf, 0, buf.position());
                    } catch (RuntimeException e) {
                        return "broker sent a bad frame length: " + e.getMessage();
                    }
                    if (frameBytes == FrameDecoder.NEED_MORE) {
                        break;
                    }
                    try {
                        received.add(Frames.decode(ByteBuffer.wrap(buf.array(), 0, frameBytes).slice()));
                    } catch (RuntimeException e) {
                        return "broker sent an undecodable frame: " + e;
                    }
                    buf.flip().position(frameBytes);
                    buf.compact();
                }
            }
            return null;
        }
    }

    // ---- generators ---------------------------------------------------------------------------------

    static byte[] generate(Random r) {
        ByteBuffer out = ByteBuffer.allocate(256 << 10);
        switch (r.nextInt(6)) {
            case 0 -> { // noise from the first byte (not 0x16: the TLS path closes at once)
                byte[] noise = new byte[r.nextInt(80)];
                r.nextBytes(noise);
                if (noise.length > 0 && noise[0] == 0x16) {
                    noise[0] = 0;
                }
                out.put(noise);
            }
            case 1 -> { // a preface cut or damaged, then anything
                byte[] preface = Frame.PREFACE.clone();
                preface[r.nextInt(preface.length)] ^= (byte) (1 << r.nextInt(8));
                out.put(preface, 0, 1 + r.nextInt(preface.length));
                out.put(mutate(r, Frames.encode(hello(r))));
            }
            case 2 -> { // preface and a mutated HELLO
                out.put(Frame.PREFACE);
                out.put(mutate(r, Frames.encode(hello(r))));
            }
            case 3 -> { // preface and frames before HELLO
                out.put(Frame.PREFACE);
                for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                    out.put(Frames.encode(anyFrame(r)));
                }
            }
            default -> { // a valid handshake, then valid, misplaced, mutated and truncated frames
                out.put(Frame.PREFACE);
                out.put(Frames.encode(hello(r)));
                for (int i = 0, n = 1 + r.nextInt(8); i < n && out.remaining() > 70_000; i++) {
                    ByteBuffer f = Frames.encode(anyFrame(r));
                    switch (r.nextInt(5)) {
                        case 0 -> out.put(mutate(r, f));
                        case 1 -> { // truncated: the connection ends mid-frame
                            byte[] b = bytes(f);
                            out.put(b, 0, r.nextInt(b.length));
                            i = n;
                        }
                        default -> out.put(f);
                    }
                }
            }
        }
        out.flip();
        return bytes(out);
    }

    static Frame.Hello hello(Random r) {
        return new Frame.Hello(Frame.VERSION, Frame.VERSION, r.nextInt(3) == 0 ? 1 + r.nextInt(1 << 20) : 0, 0,
                "fuzz", "test", r.nextInt(10) == 0 ? "SCRAM-SHA-256" : "", new byte[r.nextInt(4)]);
    }

    static String subject(Random r) {
        String[] words = {"a", "b", "orders", "*", ">", "", "x.y", "_INBOX.z", "svc.echo", "é", "a b"};
        StringBuilder b = new StringBuilder(words[r.nextInt(words.length)]);
        for (int i = 0, n = r.nextInt(4); i < n; i++) {
            b.append('.').append(words[r.nextInt(words.length)]);
        }
        return b.toString();
    }

    /** Any frame type either side may send, with mostly plausible fields. */
    static Frame anyFrame(Random r) {
        int id = r.nextInt(4) == 0 ? r.nextInt() : r.nextInt(8);
        byte[] payload = new byte[r.nextInt(3) == 0 ? r.nextInt(65_536) : r.nextInt(32)];
        r.nextBytes(payload);
        Map<String, String> headers = r.nextBoolean() ? Map.of() : Map.of("k" + r.nextInt(3), "v");
        return switch (r.nextInt(16)) {
            case 0 -> hello(r);
            case 1 -> new Frame.Welcome(1, 1 << 20, 256, 64, 10, 30_000, 90_000, 0, "s", "v", new byte[0]);
            case 2 -> new Frame.Auth(new byte[r.nextInt(40)]);
            case 3 -> new Frame.Challenge(new byte[r.nextInt(40)]);
            case 4 -> new Frame.Ping(id);
            case 5 -> new Frame.Pong(id);
            case 6 -> new Frame.GoAway(203, r.nextInt(1000), "bye");
            case 7 -> new Frame.Error(id, 100 + r.nextInt(10), r.nextBoolean(), "e");
            case 8 -> new Frame.Ok(id);
            case 9, 10 -> new Frame.Pub(id, r.nextBoolean(), subject(r), r.nextBoolean() ? subject(r) : null, headers, payload);
            case 11, 12 -> new Frame.Sub(id, r.nextBoolean(), subject(r), r.nextBoolean() ? "q" : null,
                    SlowConsumerPolicy.values()[r.nextInt(SlowConsumerPolicy.values().length)], r.nextInt(100));
            case 13 -> new Frame.Unsub(id, r.nextBoolean(), r.nextInt(3));
            case 14 -> new Frame.Msg(id, false, subject(r), null, headers, payload);
            default -> new Frame.Dropped(id, r.nextInt(100));
        };
    }

    /** Flips bits, overwrites bytes, or rewrites the length or type of an encoded frame. */
    static byte[] mutate(Random r, ByteBuffer frame) {
        byte[] b = bytes(frame);
        for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
            switch (r.nextInt(5)) {
                case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                case 2 -> ByteBuffer.wrap(b).putInt(0, r.nextBoolean() ? r.nextInt() : b.length - 4 + r.nextInt(9) - 4);
                case 3 -> b[4] = (byte) r.nextInt(256);
                default -> b[5] = (byte) r.nextInt(256);
            }
        }
        return b;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
