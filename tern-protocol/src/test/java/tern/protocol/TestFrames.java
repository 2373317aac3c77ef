package tern.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Frames for tests: one or more hand-picked examples per type, and seeded random frames. */
final class TestFrames {
    static final byte[] NONE = new byte[0];

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The encoded bytes of a frame. */
    static byte[] bytes(Frame frame) {
        ByteBuffer b = Frames.encode(frame);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** The encoded bytes of several frames, back to back. */
    static byte[] bytes(List<Frame> frames) {
        int size = 0;
        for (Frame f : frames) {
            size += Frames.encodedBytes(f);
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        for (Frame f : frames) {
            Frames.encode(f, b);
        }
        return b.array();
    }

    static String hex(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }

    /** At least one frame of every type, with empty, absent and present optional parts. */
    static List<Frame> examples() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("trace", "ab12");
        headers.put("content-type", "text/plain; charset=utf-8");
        headers.put("", "");
        return List.of(
                new Frame.Hello(1, 1, 0, 0, "tern-java", "0.1.0", "", NONE),
                new Frame.Hello(1, 7, 65_536, 0xFFFF_FFFF, "ü-client", "", "SCRAM-SHA-256", utf8("n,,n=user,r=abc")),
                new Frame.Welcome(1, 1 << 20, 256, 64, 10_000, 30_000, 90_000, 0, "srv-1", "0.1.0", NONE),
                new Frame.Welcome(65_535, Integer.MAX_VALUE, 65_535, 65_535, Integer.MAX_VALUE, 0, Integer.MAX_VALUE,
                        -1, "", "x", utf8("v=sig")),
                new Frame.Auth(NONE),
                new Frame.Auth(new byte[] {0, 1, 2, (byte) 0xFF}),
                new Frame.Challenge(utf8("r=nonce,s=salt,i=4096")),
                new Frame.Ping(0),
                new Frame.Ping(-1),
                new Frame.Pong(42),
                new Frame.GoAway(203, 30_000, "shutting down"),
                new Frame.GoAway(0, 0, ""),
                new Frame.Error(7, 106, false, "bad subject"),
                new Frame.Error(0, 100, true, ""),
                new Frame.Ok(7),
                new Frame.Pub(0, false, "a", null, Map.of(), NONE),
                new Frame.Pub(7, true, "orders.eu", null, Map.of(), utf8("42")),
                new Frame.Pub(-2, false, "time.now", "_INBOX.k3.1", headers, new byte[70_000]),
                new Frame.Pub(3, true, "", "", Map.of("k", "v"), NONE),
                new Frame.Sub(1, false, "orders.*", null, SlowConsumerPolicy.DROP_OLDEST, 0),
                new Frame.Sub(2, true, "jobs.>", "workers", SlowConsumerPolicy.DISCONNECT, Integer.MAX_VALUE),
                new Frame.Unsub(1, false, 0),
                new Frame.Unsub(2, true, 5),
                new Frame.Msg(1, false, "orders.eu", null, Map.of(), utf8("42")),
                new Frame.Msg(9, true, "_INBOX.k3.2", null, Map.of(), NONE),
                new Frame.Msg(3, false, "prix.ÉTÉ", "r", headers, utf8("€")),
                new Frame.Dropped(1, 17),
                new Frame.Dropped(Integer.MIN_VALUE, Long.MAX_VALUE),
                new Frame.QDeclare(5, "orders", spec()),
                new Frame.QDeclare(6, "t", new QueueSpec(false, true, true, 0, 0, 0, 0, 0, 0, 0, "", List.of())),
                new Frame.QDelete(7, "orders"),
                new Frame.QPurge(8, "orders"),
                new Frame.QList(9, ""),
                new Frame.QList(10, "orders"),
                new Frame.QInfo(9, "orders", spec(), 3, 3072, 1, 2, 10, 8, 1, 6, 1, 0, 0, ""),
                new Frame.QInfo(-1, "x", spec(), Long.MAX_VALUE, 0, 0, Integer.MAX_VALUE, 0, 0, 0, 0, 0, 0, 0,
                        "storage failed"),
                new Frame.QRedrive(11, "orders.dlq", ""),
                new Frame.QRedrive(12, "orders.dlq", "orders.retry"),
                new Frame.Send(0x8000_0001, true, "orders", Map.of(), utf8("42")),
                new Frame.Send(3, false, "q", headers, new byte[70_000]),
                new Frame.Confirm(0x8000_0001, 17, true),
                new Frame.Confirm(4, Long.MAX_VALUE, false),
                new Frame.Consume(1, true, "orders", 256, false),
                new Frame.Consume(2, false, "q", Integer.MAX_VALUE, true),
                new Frame.Cancel(1, true),
                new Frame.Cancel(2, false),
                new Frame.Deliver(1, (1L << 44) + 5, 17, 1, null, 0, 0, "orders", Map.of(), utf8("42")),
                new Frame.Deliver(2, 9, 0, 3, "orders", 2, 3, "orders.eu", headers, utf8("€")),
                new Frame.Ack(1, new long[] {1, 2, Long.MAX_VALUE}),
                new Frame.Ack(1, new long[0]),
                new Frame.Nack(1, 5, 0),
                new Frame.Nack(1, 6, 86_400_000),
                new Frame.Reject(1, 7),
                new Frame.Count(8, 12),
                new Frame.Count(0, 0),
                new Frame.QBind(13, false, "orders", "orders.*.created"),
                new Frame.QBind(14, true, "orders", ">"),
                new Frame.QBind(-1, false, "", ""));
    }

    /** A durable queue with every option set. */
    static QueueSpec spec() {
        return new QueueSpec(true, false, false, 0, 60_000, 0, 30_000, 10_000, 0, 5, "orders.dlq",
                List.of("orders.*"));
    }

    private static final String ALPHABET = "abcXYZ019._-*>\u00e9\u20ac\u4e2d ";

    static String randomString(Random r, int maxChars) {
        int n = r.nextInt(maxChars + 1);
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        }
        return s.toString();
    }

    static byte[] randomBytes(Random r, int maxBytes) {
        byte[] b = new byte[r.nextInt(maxBytes + 1)];
        r.nextBytes(b);
        return b;
    }

    static Map<String, String> randomHeaders(Random r) {
        Map<String, String> h = new LinkedHashMap<>();
        int n = r.nextInt(4) == 0 ? r.nextInt(6) : 0;
        for (int i = 0; i < n; i++) {
            h.put(randomString(r, 8), randomString(r, 12));
        }
        return h;
    }

    /** A random valid frame of a random type; payloads up to maxPayloadBytes. */
    static Frame random(Random r, int maxPayloadBytes) {
        FrameType type = FrameType.values()[r.nextInt(FrameType.values().length)];
        int id = r.nextInt();
        return switch (type) {
            case HELLO -> new Frame.Hello(r.nextInt(65_536), r.nextInt(65_536), r.nextInt(Integer.MAX_VALUE),
                    r.nextInt(), randomString(r, 20), randomString(r, 10), randomString(r, 14), randomBytes(r, 40));
            case WELCOME -> new Frame.Welcome(r.nextInt(65_536), r.nextInt(Integer.MAX_VALUE), r.nextInt(65_536),
                    r.nextInt(65_536), r.nextInt(Integer.MAX_VALUE), r.nextInt(Integer.MAX_VALUE),
                    r.nextInt(Integer.MAX_VALUE), r.nextInt(), randomString(r, 20), randomString(r, 10),
                    randomBytes(r, 40));
            case AUTH -> new Frame.Auth(randomBytes(r, 60));
            case CHALLENGE -> new Frame.Challenge(randomBytes(r, 60));
            case PING -> new Frame.Ping(id);
            case PONG -> new Frame.Pong(id);
            case GOAWAY -> new Frame.GoAway(r.nextInt(65_536), r.nextInt(Integer.MAX_VALUE), randomString(r, 30));
            case ERROR -> new Frame.Error(id, r.nextInt(65_536), r.nextBoolean(), randomString(r, 30));
            case OK -> new Frame.Ok(id);
            case PUB -> new Frame.Pub(id, r.nextBoolean(), randomString(r, 30),
                    r.nextBoolean() ? null : randomString(r, 30), randomHeaders(r), randomBytes(r, maxPayloadBytes));
            case SUB -> new Frame.Sub(id, r.nextBoolean(), randomString(r, 30),
                    r.nextBoolean() ? null : randomString(r, 10),
                    SlowConsumerPolicy.values()[r.nextInt(2)], r.nextInt(Integer.MAX_VALUE));
            case UNSUB -> new Frame.Unsub(id, r.nextBoolean(), r.nextInt(Integer.MAX_VALUE));
            case MSG -> new Frame.Msg(id, r.nextBoolean(), randomString(r, 30),
                    r.nextBoolean() ? null : randomString(r, 30), randomHeaders(r), randomBytes(r, maxPayloadBytes));
            case DROPPED -> new Frame.Dropped(id, r.nextLong());
            case QDECLARE -> new Frame.QDeclare(id, randomString(r, 20), randomSpec(r));
            case QDELETE -> new Frame.QDelete(id, randomString(r, 20));
            case QPURGE -> new Frame.QPurge(id, randomString(r, 20));
            case QLIST -> new Frame.QList(id, randomString(r, 20));
            case QINFO -> new Frame.QInfo(id, randomString(r, 20), randomSpec(r), r.nextLong(), r.nextLong(),
                    r.nextLong(), r.nextInt(Integer.MAX_VALUE), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(),
                    r.nextLong(), r.nextLong(), r.nextLong(), randomString(r, 20));
            case QREDRIVE -> new Frame.QRedrive(id, randomString(r, 20), randomString(r, 20));
            case SEND -> new Frame.Send(id, r.nextBoolean(), randomString(r, 20), randomHeaders(r),
                    randomBytes(r, maxPayloadBytes));
            case CONFIRM -> new Frame.Confirm(id, r.nextLong(), r.nextBoolean());
            case CONSUME -> new Frame.Consume(id, r.nextBoolean(), randomString(r, 20), r.nextInt(Integer.MAX_VALUE),
                    r.nextBoolean());
            case CANCEL -> new Frame.Cancel(id, r.nextBoolean());
            case DELIVER -> r.nextBoolean()
                    ? new Frame.Deliver(id, r.nextLong(), r.nextLong(), r.nextInt(Integer.MAX_VALUE), null, 0, 0,
                            randomString(r, 30), randomHeaders(r), randomBytes(r, maxPayloadBytes))
                    : new Frame.Deliver(id, r.nextLong(), r.nextLong(), r.nextInt(Integer.MAX_VALUE),
                            randomString(r, 20), r.nextInt(256), r.nextInt(Integer.MAX_VALUE), randomString(r, 30),
                            randomHeaders(r), randomBytes(r, maxPayloadBytes));
            case ACK -> {
                long[] tokens = new long[r.nextInt(5)];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = r.nextLong();
                }
                yield new Frame.Ack(id, tokens);
            }
            case NACK -> new Frame.Nack(id, r.nextLong(), r.nextInt(Integer.MAX_VALUE));
            case REJECT -> new Frame.Reject(id, r.nextLong());
            case COUNT -> new Frame.Count(id, r.nextLong());
            case QBIND -> new Frame.QBind(id, r.nextBoolean(), randomString(r, 20), randomString(r, 30));
        };
    }

    static QueueSpec randomSpec(Random r) {
        List<String> bindings = new ArrayList<>();
        for (int i = r.nextInt(3); i > 0; i--) {
            bindings.add(randomString(r, 12));
        }
        return new QueueSpec(r.nextBoolean(), r.nextBoolean(), r.nextBoolean(), r.nextInt(Integer.MAX_VALUE),
                r.nextLong() & Long.MAX_VALUE, r.nextLong() & Long.MAX_VALUE, r.nextLong() & Long.MAX_VALUE,
                r.nextLong() & Long.MAX_VALUE, r.nextLong() & Long.MAX_VALUE, r.nextInt(Integer.MAX_VALUE),
                randomString(r, 12), bindings);
    }

    static List<Frame> random(Random r, int count, int maxPayloadBytes) {
        List<Frame> frames = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            frames.add(random(r, maxPayloadBytes));
        }
        return frames;
    }

    /** A seed from the system property tern.test.seed, or a fresh one; printed so a failure can be replayed. */
    static long seed(String testName) {
        String fixed = System.getProperty("tern.test.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(testName + " seed " + seed + " (replay with -Dtern.test.seed=" + seed + ")");
        return seed;
    }

    private TestFrames() {
    }
}
