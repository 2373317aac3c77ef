package tern.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes and decodes {@link Frame} values, and writes the hot-path frames (PUB, MSG header)
 * straight into a caller's buffer. Decoding checks every length and rule in docs/protocol.md and
 * throws {@link ProtocolException} carrying the code the receiver answers with.
 */
public final class Frames {
    private static final byte[] EMPTY = new byte[0];
    private static final Limits NO_LIMITS = new Limits(Limits.ABSOLUTE_MAX_FRAME_BYTES, Limits.ABSOLUTE_MAX_FRAME_BYTES,
            Codec.MAX_STRING_BYTES, 1024, Codec.MAX_STRING_BYTES, Integer.MAX_VALUE, Integer.MAX_VALUE,
            Long.MAX_VALUE, Integer.MAX_VALUE, Limits.DEFAULT.handshakeTimeout(), Limits.DEFAULT.pingInterval(),
            Limits.DEFAULT.idleTimeout());

    // ---- convenience constructors -------------------------------------------------------------

    public static Frame.Pub publish(String subject, byte[] payload) {
        return new Frame.Pub(0, false, subject, null, Map.of(), payload);
    }

    // ---- encoding -----------------------------------------------------------------------------

    /** A new buffer holding exactly the encoded frame, positioned at 0. */
    public static ByteBuffer encode(Frame frame) {
        ByteBuffer b = ByteBuffer.allocate(encodedBytes(frame));
        encode(frame, b);
        return b.flip();
    }

    /** Total bytes of the encoded frame, prefix included. */
    public static int encodedBytes(Frame frame) {
        return Frame.BODY_OFFSET + bodyBytes(frame);
    }

    /** Writes the frame at dst's position. */
    public static void encode(Frame frame, ByteBuffer dst) {
        int body = bodyBytes(frame);
        putHeader(dst, Frame.HEADER_BYTES + body, frame.type(), flags(frame), frame.id());
        switch (frame.type()) {
            case HELLO -> {
                Frame.Hello h = (Frame.Hello) frame;
                dst.putShort((short) h.minVersion()).putShort((short) h.maxVersion())
                        .putInt(h.maxFrameBytes()).putInt(h.features());
                Codec.putStr(dst, Codec.utf8(h.clientName()));
                Codec.putStr(dst, Codec.utf8(h.clientVersion()));
                Codec.putStr(dst, Codec.utf8(h.authMechanism()));
                Codec.putBytes(dst, h.authData());
            }
            case WELCOME -> {
                Frame.Welcome w = (Frame.Welcome) frame;
                dst.putShort((short) w.version()).putInt(w.maxFrameBytes()).putShort((short) w.maxSubjectBytes())
                        .putShort((short) w.maxHeaders()).putInt(w.maxSubscriptions())
                        .putInt(w.pingIntervalMillis()).putInt(w.idleTimeoutMillis()).putInt(w.features());
                Codec.putStr(dst, Codec.utf8(w.serverId()));
                Codec.putStr(dst, Codec.utf8(w.serverVersion()));
                Codec.putBytes(dst, w.authData());
            }
            case AUTH -> Codec.putBytes(dst, ((Frame.Auth) frame).data());
            case CHALLENGE -> Codec.putBytes(dst, ((Frame.Challenge) frame).data());
            case PING, PONG, OK -> { }
            case GOAWAY -> {
                Frame.GoAway g = (Frame.GoAway) frame;
                dst.putShort((short) g.code()).putInt(g.drainMillis());
                Codec.putStr(dst, Codec.utf8(g.text()));
            }
            case ERROR -> {
                Frame.Error e = (Frame.Error) frame;
                dst.putShort((short) e.code());
                Codec.putStr(dst, Codec.utf8(e.text()));
            }
            case PUB -> {
                Frame.Pub p = (Frame.Pub) frame;
                putMessageBody(dst, p.subject(), p.reply(), p.headers(), p.payload());
            }
            case MSG -> {
                Frame.Msg m = (Frame.Msg) frame;
                putMessageBody(dst, m.subject(), m.reply(), m.headers(), m.payload());
            }
            case SUB -> {
                Frame.Sub s = (Frame.Sub) frame;
                Codec.putStr(dst, Codec.utf8(s.subject()));
                Codec.putStr(dst, s.queue() == null ? EMPTY : Codec.utf8(s.queue()));
                dst.put((byte) s.policy().code()).putInt(s.maxPendingMessages());
            }
            case UNSUB -> dst.putInt(((Frame.Unsub) frame).afterMessages());
            case DROPPED -> dst.putLong(((Frame.Dropped) frame).count());
            case QDECLARE -> {
                Frame.QDeclare q = (Frame.QDeclare) frame;
                Codec.putStr(dst, Codec.utf8(q.name()));
                putSpec(dst, q.spec());
            }
            case QDELETE -> Codec.putStr(dst, Codec.utf8(((Frame.QDelete) frame).name()));
            case QPURGE -> Codec.putStr(dst, Codec.utf8(((Frame.QPurge) frame).name()));
            case QLIST -> Codec.putStr(dst, Codec.utf8(((Frame.QList) frame).name()));
            case QINFO -> {
                Frame.QInfo q = (Frame.QInfo) frame;
                Codec.putStr(dst, Codec.utf8(q.name()));
                putSpec(dst, q.spec());
                dst.putLong(q.depth()).putLong(q.depthBytes()).putLong(q.unacked()).putInt(q.consumers())
                        .putLong(q.published()).putLong(q.delivered()).putLong(q.redelivered()).putLong(q.acked())
                        .putLong(q.deadLettered()).putLong(q.expired()).putLong(q.dropped());
                Codec.putStr(dst, Codec.utf8(q.failure()));
            }
            case QREDRIVE -> {
                Frame.QRedrive q = (Frame.QRedrive) frame;
                Codec.putStr(dst, Codec.utf8(q.deadLetterQueue()));
                Codec.putStr(dst, Codec.utf8(q.target()));
            }
            case SEND -> {
                Frame.Send m = (Frame.Send) frame;
                Codec.putStr(dst, Codec.utf8(m.queue()));
                if (!m.headers().isEmpty()) {
                    dst.put(encodeHeaders(m.headers()));
                }
                dst.put(m.payload());
            }
            case CONFIRM -> {
                Frame.Confirm c = (Frame.Confirm) frame;
                dst.putLong(c.offset()).put((byte) (c.fsynced() ? 1 : 0));
            }
            case CONSUME -> {
                Frame.Consume c = (Frame.Consume) frame;
                Codec.putStr(dst, Codec.utf8(c.queue()));
                dst.putInt(c.prefetch());
            }
            case CANCEL -> { }
            case DELIVER -> {
                Frame.Deliver d = (Frame.Deliver) frame;
                dst.putLong(d.token()).putLong(d.offset()).putInt(d.deliveryCount());
                if (d.deadLetterOrigin() != null) {
                    Codec.putStr(dst, Codec.utf8(d.deadLetterOrigin()));
                    dst.put((byte) d.deadLetterReason()).putInt(d.deadLetterCount());
                }
                putMessageBody(dst, d.subject(), null, d.headers(), d.payload());
            }
            case ACK -> {
                long[] tokens = ((Frame.Ack) frame).tokens();
                dst.putInt(tokens.length);
                for (long t : tokens) {
                    dst.putLong(t);
                }
            }
            case NACK -> {
                Frame.Nack n = (Frame.Nack) frame;
                dst.putLong(n.token()).putInt(n.delayMillis());
            }
            case REJECT -> dst.putLong(((Frame.Reject) frame).token());
            case COUNT -> dst.putLong(((Frame.Count) frame).count());
            case QBIND -> {
                Frame.QBind q = (Frame.QBind) frame;
                Codec.putStr(dst, Codec.utf8(q.queue()));
                Codec.putStr(dst, Codec.utf8(q.pattern()));
            }
        }
    }

    /** Writes the 12 bytes every frame starts with. bodyLength counts header + body (the length field's value). */
    public static void putHeader(ByteBuffer dst, int length, FrameType type, int flags, int id) {
        dst.putInt(length).put((byte) type.code()).put((byte) flags).putShort((short) 0).putInt(id);
    }

    private static void putSpec(ByteBuffer dst, QueueSpec q) {
        dst.put((byte) q.flags()).putInt(q.fsyncIntervalMillis()).putLong(q.messageTtlMillis())
                .putLong(q.expiryMillis()).putLong(q.ackTimeoutMillis()).putLong(q.maxLengthMessages())
                .putLong(q.maxLengthBytes()).putInt(q.maxDeliveries());
        Codec.putStr(dst, Codec.utf8(q.deadLetterQueue()));
        dst.putShort((short) q.bindings().size());
        for (String b : q.bindings()) {
            Codec.putStr(dst, Codec.utf8(b));
        }
    }

    /** Size of a whole SEND frame (prefix included) with these pre-encoded parts; headerBlock may be null. */
    public static int sendBytes(byte[] queue, byte[] headerBlock, int payloadBytes) {
        return Frame.BODY_OFFSET + Codec.strSize(queue) + (headerBlock == null ? 0 : headerBlock.length) + payloadBytes;
    }

    /** Writes a whole SEND frame from pre-encoded parts at dst's position; headerBlock null or empty: none. */
    public static void putSend(ByteBuffer dst, int id, boolean confirm, byte[] queue, byte[] headerBlock,
                               byte[] payload) {
        boolean hasHeaders = headerBlock != null && headerBlock.length > 0;
        int flags = (confirm ? Flags.ACK : 0) | (hasHeaders ? Flags.HEADERS : 0);
        putHeader(dst, sendBytes(queue, hasHeaders ? headerBlock : null, payload.length) - Frame.PREFIX_BYTES,
                FrameType.SEND, flags, id);
        Codec.putStr(dst, queue);
        if (hasHeaders) {
            dst.put(headerBlock);
        }
        dst.put(payload);
    }

    /** Bytes of an ACK frame carrying one token; each further token adds 8 ({@link #ACK_TOKEN_BYTES}). */
    public static final int ACK_ONE_BYTES = Frame.BODY_OFFSET + 4 + 8;
    /** Bytes each token adds to an ACK frame. */
    public static final int ACK_TOKEN_BYTES = 8;
    /** Offset of the token count within an ACK frame. */
    public static final int ACK_COUNT_OFFSET = Frame.BODY_OFFSET;

    /** Writes an ACK frame for consumer id holding one token; grow it with {@link #appendAckToken}. */
    public static void putAck(ByteBuffer dst, int consumerId, long token) {
        putHeader(dst, ACK_ONE_BYTES - Frame.PREFIX_BYTES, FrameType.ACK, 0, consumerId);
        dst.putInt(1).putLong(token);
    }

    /**
     * Appends a token to the ACK frame starting at frameStart, which must be the last frame written to dst
     * (dst's position is its end): bumps its length and count.
     */
    public static void appendAckToken(ByteBuffer dst, int frameStart, long token) {
        dst.putLong(token);
        dst.putInt(frameStart, dst.getInt(frameStart) + ACK_TOKEN_BYTES);
        dst.putInt(frameStart + ACK_COUNT_OFFSET, dst.getInt(frameStart + ACK_COUNT_OFFSET) + 1);
    }

    /** Encodes a header map as a header block (u16 count, then key/value str pairs). */
    public static byte[] encodeHeaders(Map<String, String> headers) {
        if (headers.isEmpty()) {
            return EMPTY;
        }
        int size = 2;
        List<byte[]> parts = new ArrayList<>(headers.size() * 2);
        for (Map.Entry<String, String> e : headers.entrySet()) {
            byte[] k = Codec.utf8(e.getKey());
            byte[] v = Codec.utf8(e.getValue());
            parts.add(k);
            parts.add(v);
            size += Codec.strSize(k) + Codec.strSize(v);
        }
        ByteBuffer b = ByteBuffer.allocate(size).putShort((short) headers.size());
        for (byte[] part : parts) {
            Codec.putStr(b, part);
        }
        return b.array();
    }

    /** Size of a whole PUB frame (prefix included) with these pre-encoded parts; reply/headers may be null. */
    public static int pubBytes(byte[] subject, byte[] reply, byte[] headerBlock, int payloadBytes) {
        return Frame.BODY_OFFSET + Codec.strSize(subject) + (reply == null ? 0 : Codec.strSize(reply))
                + (headerBlock == null || headerBlock.length == 0 ? 0 : headerBlock.length) + payloadBytes;
    }

    /**
     * Writes a whole PUB frame from pre-encoded parts at dst's position without allocating.
     * reply null means no reply; headerBlock null or empty means no headers.
     */
    public static void putPub(ByteBuffer dst, int id, boolean ack, byte[] subject, byte[] reply, byte[] headerBlock,
                              byte[] payload, int payloadOffset, int payloadBytes) {
        boolean hasHeaders = headerBlock != null && headerBlock.length > 0;
        int flags = (ack ? Flags.ACK : 0) | (reply != null ? Flags.REPLY : 0) | (hasHeaders ? Flags.HEADERS : 0);
        int length = pubBytes(subject, reply, headerBlock, payloadBytes) - Frame.PREFIX_BYTES;
        putHeader(dst, length, FrameType.PUB, flags, id);
        Codec.putStr(dst, subject);
        if (reply != null) {
            Codec.putStr(dst, reply);
        }
        if (hasHeaders) {
            dst.put(headerBlock);
        }
        dst.put(payload, payloadOffset, payloadBytes);
    }

    private static void putMessageBody(ByteBuffer dst, String subject, String reply, Map<String, String> headers,
                                       byte[] payload) {
        Codec.putStr(dst, Codec.utf8(subject));
        if (reply != null) {
            Codec.putStr(dst, Codec.utf8(reply));
        }
        if (!headers.isEmpty()) {
            dst.put(encodeHeaders(headers));
        }
        dst.put(payload);
    }

    private static int flags(Frame frame) {
        if (frame instanceof Frame.Pub p) {
            return (p.ack() ? Flags.ACK : 0) | (p.reply() != null ? Flags.REPLY : 0)
                    | (p.headers().isEmpty() ? 0 : Flags.HEADERS);
        } else if (frame instanceof Frame.Msg m) {
            return (m.noResponders() ? Flags.NO_RESPONDERS : 0) | (m.reply() != null ? Flags.REPLY : 0)
                    | (m.headers().isEmpty() ? 0 : Flags.HEADERS);
        } else if (frame instanceof Frame.Sub s) {
            return s.ack() ? Flags.ACK : 0;
        } else if (frame instanceof Frame.Unsub u) {
            return u.ack() ? Flags.ACK : 0;
        } else if (frame instanceof Frame.Error e) {
            return e.closing() ? Flags.CLOSING : 0;
        } else if (frame instanceof Frame.Send m) {
            return (m.confirm() ? Flags.ACK : 0) | (m.headers().isEmpty() ? 0 : Flags.HEADERS);
        } else if (frame instanceof Frame.Consume c) {
            return (c.ack() ? Flags.ACK : 0) | (c.autoAck() ? Flags.AUTO_ACK : 0);
        } else if (frame instanceof Frame.Cancel c) {
            return c.ack() ? Flags.ACK : 0;
        } else if (frame instanceof Frame.Deliver d) {
            return (d.headers().isEmpty() ? 0 : Flags.HEADERS) | (d.deadLetterOrigin() != null ? Flags.DEAD_LETTER : 0);
        } else if (frame instanceof Frame.QBind q) {
            return q.unbind() ? Flags.UNBIND : 0;
        }
        return 0;
    }

    private static int bodyBytes(Frame frame) {
        if (frame instanceof Frame.Hello h) {
            return 12 + str(h.clientName()) + str(h.clientVersion()) + str(h.authMechanism()) + 4 + h.authData().length;
        } else if (frame instanceof Frame.Welcome w) {
            return 26 + str(w.serverId()) + str(w.serverVersion()) + 4 + w.authData().length;
        } else if (frame instanceof Frame.Auth a) {
            return 4 + a.data().length;
        } else if (frame instanceof Frame.Challenge c) {
            return 4 + c.data().length;
        } else if (frame instanceof Frame.GoAway g) {
            return 6 + str(g.text());
        } else if (frame instanceof Frame.Error e) {
            return 2 + str(e.text());
        } else if (frame instanceof Frame.Pub p) {
            return messageBodyBytes(p.subject(), p.reply(), p.headers(), p.payload());
        } else if (frame instanceof Frame.Msg m) {
            return messageBodyBytes(m.subject(), m.reply(), m.headers(), m.payload());
        } else if (frame instanceof Frame.Sub s) {
            return str(s.subject()) + (s.queue() == null ? 2 : str(s.queue())) + 5;
        } else if (frame instanceof Frame.Unsub) {
            return 4;
        } else if (frame instanceof Frame.Dropped) {
            return 8;
        } else if (frame instanceof Frame.QDeclare q) {
            return str(q.name()) + q.spec().encodedBytes();
        } else if (frame instanceof Frame.QDelete q) {
            return str(q.name());
        } else if (frame instanceof Frame.QPurge q) {
            return str(q.name());
        } else if (frame instanceof Frame.QList q) {
            return str(q.name());
        } else if (frame instanceof Frame.QInfo q) {
            return str(q.name()) + q.spec().encodedBytes() + 10 * 8 + 4 + str(q.failure());
        } else if (frame instanceof Frame.QRedrive q) {
            return str(q.deadLetterQueue()) + str(q.target());
        } else if (frame instanceof Frame.Send m) {
            return str(m.queue()) + (m.headers().isEmpty() ? 0 : encodeHeaders(m.headers()).length) + m.payload().length;
        } else if (frame instanceof Frame.Confirm) {
            return 9;
        } else if (frame instanceof Frame.Consume c) {
            return str(c.queue()) + 4;
        } else if (frame instanceof Frame.Deliver d) {
            return 20 + (d.deadLetterOrigin() == null ? 0 : str(d.deadLetterOrigin()) + 5)
                    + messageBodyBytes(d.subject(), null, d.headers(), d.payload());
        } else if (frame instanceof Frame.Ack a) {
            return 4 + 8 * a.tokens().length;
        } else if (frame instanceof Frame.Nack) {
            return 12;
        } else if (frame instanceof Frame.Reject) {
            return 8;
        } else if (frame instanceof Frame.Count) {
            return 8;
        } else if (frame instanceof Frame.QBind q) {
            return str(q.queue()) + str(q.pattern());
        }
        return 0; // PING, PONG, OK, CANCEL
    }

    private static int messageBodyBytes(String subject, String reply, Map<String, String> headers, byte[] payload) {
        return str(subject) + (reply == null ? 0 : str(reply)) + (headers.isEmpty() ? 0 : encodeHeaders(headers).length)
                + payload.length;
    }

    private static int str(String s) {
        return 2 + Codec.utf8(s).length;
    }

    // ---- decoding -----------------------------------------------------------------------------

    /** Decodes the one whole frame between frame's position and limit, with no limits beyond the format's. */
    public static Frame decode(ByteBuffer frame) {
        return decode(frame, NO_LIMITS);
    }

    /**
     * Decodes the one whole frame between frame's position and limit, enforcing limits. Does not move
     * the buffer's position.
     */
    public static Frame decode(ByteBuffer b, Limits limits) {
        int start = b.position();
        int end = b.limit();
        Codec.require(start, Frame.BODY_OFFSET, end, "frame header");
        int length = b.getInt(start);
        if (length < Frame.HEADER_BYTES || start + Frame.PREFIX_BYTES + length != end) {
            throw new ProtocolException(ErrorCode.BAD_FRAME_LENGTH, "frame length " + Integer.toUnsignedString(length)
                    + " does not match the " + (end - start - Frame.PREFIX_BYTES) + " bytes after it");
        }
        int code = b.get(start + Frame.TYPE_OFFSET) & 0xFF;
        FrameType type = FrameType.of(code);
        if (type == null) {
            throw new ProtocolException(ErrorCode.UNKNOWN_FRAME_TYPE, "frame type 0x" + Integer.toHexString(code));
        }
        int flags = b.get(start + Frame.FLAGS_OFFSET) & 0xFF;
        if ((flags & ~Flags.allowed(type)) != 0) {
            throw Codec.malformed(type + " flags 0x" + Integer.toHexString(flags) + " outside 0x"
                    + Integer.toHexString(Flags.allowed(type)));
        }
        if (b.getShort(start + Frame.RESERVED_OFFSET) != 0) {
            throw Codec.malformed(type + " reserved header bytes not zero");
        }
        int id = b.getInt(start + Frame.ID_OFFSET);
        boolean ack = (flags & Flags.ACK) != 0;
        Reader r = new Reader(b, start + Frame.BODY_OFFSET, end, type);
        Frame f = switch (type) {
            case HELLO -> new Frame.Hello(r.u16(), r.u16(), r.u31("maxFrameBytes"), r.i32(), r.str("clientName"),
                    r.str("clientVersion"), r.str("authMechanism"), r.bytes("authData"));
            case WELCOME -> new Frame.Welcome(r.u16(), r.u31("maxFrameBytes"), r.u16(), r.u16(),
                    r.u31("maxSubscriptions"), r.u31("pingIntervalMillis"), r.u31("idleTimeoutMillis"), r.i32(),
                    r.str("serverId"), r.str("serverVersion"), r.bytes("authData"));
            case AUTH -> new Frame.Auth(r.bytes("data"));
            case CHALLENGE -> new Frame.Challenge(r.bytes("data"));
            case PING -> new Frame.Ping(id);
            case PONG -> new Frame.Pong(id);
            case OK -> new Frame.Ok(id);
            case GOAWAY -> new Frame.GoAway(r.u16(), r.u31("drainMillis"), r.str("text"));
            case ERROR -> new Frame.Error(id, r.u16(), (flags & Flags.CLOSING) != 0, r.str("text"));
            case SUB -> {
                String subject = r.str("subject");
                String queue = r.str("queue");
                yield new Frame.Sub(id, ack, subject, queue.isEmpty() ? null : queue,
                        SlowConsumerPolicy.of(r.u8()), r.u31("maxPendingMessages"));
            }
            case UNSUB -> new Frame.Unsub(id, ack, r.u31("afterMessages"));
            case DROPPED -> new Frame.Dropped(id, r.i64());
            case QDECLARE -> new Frame.QDeclare(id, r.str("name"), r.spec());
            case QDELETE -> new Frame.QDelete(id, r.str("name"));
            case QPURGE -> new Frame.QPurge(id, r.str("name"));
            case QLIST -> new Frame.QList(id, r.str("name"));
            case QINFO -> new Frame.QInfo(id, r.str("name"), r.spec(), r.i64(), r.i64(), r.i64(), r.u31("consumers"),
                    r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.str("failure"));
            case QREDRIVE -> new Frame.QRedrive(id, r.str("deadLetterQueue"), r.str("target"));
            case SEND -> {
                String queue = r.str("queue");
                Map<String, String> headers = r.headers((flags & Flags.HEADERS) != 0, limits.maxHeaders());
                yield new Frame.Send(id, ack, queue, headers, r.rest());
            }
            case CONFIRM -> new Frame.Confirm(id, r.i64(), r.bool("fsynced"));
            case CONSUME -> new Frame.Consume(id, ack, r.str("queue"), r.u31("prefetch"),
                    (flags & Flags.AUTO_ACK) != 0);
            case CANCEL -> new Frame.Cancel(id, ack);
            case DELIVER -> {
                long token = r.i64();
                long offset = r.i64();
                int count = r.u31("deliveryCount");
                String origin = null;
                int reason = 0;
                int deadCount = 0;
                if ((flags & Flags.DEAD_LETTER) != 0) {
                    origin = r.str("deadLetterOrigin");
                    reason = r.u8();
                    deadCount = r.u31("deadLetterCount");
                }
                String subject = r.str("subject");
                Map<String, String> headers = r.headers((flags & Flags.HEADERS) != 0, limits.maxHeaders());
                yield new Frame.Deliver(id, token, offset, count, origin, reason, deadCount, subject, headers, r.rest());
            }
            case ACK -> {
                int count = r.u31("count");
                if ((long) count * 8 != end - r.p) {
                    throw Codec.malformed("ACK count " + count + " needs " + (long) count * 8 + " token bytes, has "
                            + (end - r.p) + " (trailing or missing bytes)");
                }
                long[] tokens = new long[count];
                for (int i = 0; i < count; i++) {
                    tokens[i] = r.i64();
                }
                yield new Frame.Ack(id, tokens);
            }
            case NACK -> new Frame.Nack(id, r.i64(), r.u31("delayMillis"));
            case REJECT -> new Frame.Reject(id, r.i64());
            case COUNT -> new Frame.Count(id, r.i64());
            case QBIND -> new Frame.QBind(id, (flags & Flags.UNBIND) != 0, r.str("queue"), r.str("pattern"));
            case PUB, MSG -> {
                MessageLayout m = new MessageLayout().parse(b, start, end - start, limits.maxSubjectBytes(),
                        limits.maxHeaders());
                String subject = Codec.utf8(b, m.subjectOffset(), m.subjectBytes());
                String reply = m.hasReply() ? Codec.utf8(b, m.replyOffset(), m.replyBytes()) : null;
                Map<String, String> headers = decodeHeaders(b, m.headersOffset(), m.headersBytes());
                byte[] payload = new byte[m.payloadBytes()];
                b.get(m.payloadOffset(), payload);
                r.skipTo(end);
                yield type == FrameType.PUB
                        ? new Frame.Pub(id, ack, subject, reply, headers, payload)
                        : new Frame.Msg(id, (flags & Flags.NO_RESPONDERS) != 0, subject, reply, headers, payload);
            }
        };
        r.requireEnd();
        return f;
    }

    /** Decodes a header block (as located by {@link MessageLayout}); an empty map when blockBytes is 0. */
    public static Map<String, String> decodeHeaders(ByteBuffer b, int offset, int blockBytes) {
        if (blockBytes == 0) {
            return Map.of();
        }
        int end = offset + blockBytes;
        int count = Codec.u16(b, offset);
        Map<String, String> headers = new LinkedHashMap<>(count * 2);
        int p = offset + 2;
        for (int i = 0; i < count; i++) {
            String key = Codec.str(b, p, end, "header key");
            p += 2 + Codec.u16(b, p);
            String value = Codec.str(b, p, end, "header value");
            p += 2 + Codec.u16(b, p);
            if (headers.put(key, value) != null) {
                throw Codec.malformed("header key '" + key + "' repeated");
            }
        }
        return headers;
    }

    /** Decodes every frame in a byte sequence (tests and tools). Throws ProtocolException on the first bad one. */
    public static List<Frame> decodeAll(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        FrameDecoder decoder = new FrameDecoder(Limits.ABSOLUTE_MAX_FRAME_BYTES);
        List<Frame> frames = new ArrayList<>();
        int offset = 0;
        while (offset < bytes.length) {
            int n = decoder.nextFrameBytes(b, offset, bytes.length - offset);
            if (n == FrameDecoder.NEED_MORE) {
                throw Codec.malformed("truncated frame: " + (bytes.length - offset) + " bytes left over");
            }
            frames.add(decode(b.duplicate().position(offset).limit(offset + n)));
            offset += n;
        }
        return frames;
    }

    /** Sequential field reader over one frame body; every read is bounds-checked. */
    private static final class Reader {
        private final ByteBuffer b;
        private final int end;
        private final FrameType type;
        private int p;

        Reader(ByteBuffer b, int p, int end, FrameType type) {
            this.b = b;
            this.p = p;
            this.end = end;
            this.type = type;
        }

        int u8() {
            Codec.require(p, 1, end, type + " u8");
            return b.get(p++) & 0xFF;
        }

        int u16() {
            Codec.require(p, 2, end, type + " u16");
            int v = Codec.u16(b, p);
            p += 2;
            return v;
        }

        int i32() {
            Codec.require(p, 4, end, type + " u32");
            int v = b.getInt(p);
            p += 4;
            return v;
        }

        int u31(String field) {
            Codec.require(p, 4, end, type + " " + field);
            int v = Codec.u31(b, p, type + " " + field);
            p += 4;
            return v;
        }

        long i64() {
            Codec.require(p, 8, end, type + " u64");
            long v = b.getLong(p);
            p += 8;
            return v;
        }

        String str(String field) {
            String s = Codec.str(b, p, end, type + " " + field);
            p += 2 + Codec.u16(b, p);
            return s;
        }

        byte[] bytes(String field) {
            int len = u31(field + " length");
            Codec.require(p, len, end, type + " " + field);
            byte[] data = new byte[len];
            b.get(p, data);
            p += len;
            return data;
        }

        boolean bool(String field) {
            int v = u8();
            if (v > 1) {
                throw Codec.malformed(type + " " + field + " " + v + " is not 0 or 1");
            }
            return v == 1;
        }

        QueueSpec spec() {
            int flags = u8();
            if ((flags & ~(QueueSpec.DURABLE | QueueSpec.NO_ACK | QueueSpec.DROP_HEAD)) != 0) {
                throw Codec.malformed(type + " queue flags 0x" + Integer.toHexString(flags) + " outside 0x07");
            }
            int fsyncInterval = u31("fsyncIntervalMillis");
            long ttl = u63("messageTtlMillis");
            long expiry = u63("expiryMillis");
            long ackTimeout = u63("ackTimeoutMillis");
            long maxMessages = u63("maxLengthMessages");
            long maxBytes = u63("maxLengthBytes");
            int maxDeliveries = u31("maxDeliveries");
            String dlq = str("deadLetterQueue");
            int n = u16();
            List<String> bindings = new ArrayList<>(Math.min(n, (end - p) / 2));
            for (int i = 0; i < n; i++) {
                bindings.add(str("binding"));
            }
            return new QueueSpec((flags & QueueSpec.DURABLE) != 0, (flags & QueueSpec.NO_ACK) != 0,
                    (flags & QueueSpec.DROP_HEAD) != 0, fsyncInterval, ttl, expiry, ackTimeout, maxMessages, maxBytes,
                    maxDeliveries, dlq, bindings);
        }

        long u63(String field) {
            long v = i64();
            if (v < 0) {
                throw Codec.malformed(type + " " + field + " " + Long.toUnsignedString(v) + " > " + Long.MAX_VALUE);
            }
            return v;
        }

        Map<String, String> headers(boolean present, int maxHeaders) {
            if (!present) {
                return Map.of();
            }
            int start = p;
            int count = u16();
            if (count > maxHeaders) {
                throw new ProtocolException(ErrorCode.LIMIT_EXCEEDED, "header count " + count + " > max " + maxHeaders);
            }
            for (int i = 0; i < count; i++) {
                p += 2 + Codec.strBytes(b, p, end, type + " header key");
                p += 2 + Codec.strBytes(b, p, end, type + " header value");
            }
            return decodeHeaders(b, start, p - start);
        }

        byte[] rest() {
            byte[] data = new byte[end - p];
            b.get(p, data);
            p = end;
            return data;
        }

        void skipTo(int position) {
            p = position;
        }

        void requireEnd() {
            if (p != end) {
                throw Codec.malformed(type + " has " + (end - p) + " unexpected trailing bytes");
            }
        }
    }

    private Frames() {
    }
}
