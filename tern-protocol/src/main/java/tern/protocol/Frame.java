package tern.protocol;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A decoded frame, and the layout every frame shares. See docs/protocol.md for each type's body.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  length (u32): bytes after this field         |
 * +---------------+---------------+-------------------------------+
 * |   type (u8)   |  flags (u8)   |      reserved (u16) = 0       |
 * +---------------+---------------+-------------------------------+
 * |          id (u32): subscription id or correlation id          |
 * +---------------------------------------------------------------+
 * |                    body (length - 8 bytes)                    |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <p>The records here are the value model used by tests, tools and the handshake; the publish and
 * delivery hot paths read and write the same layout in place ({@link MessageLayout}, {@link Frames}).
 */
public sealed interface Frame {
    /** Protocol version spoken by this implementation. */
    int VERSION = 1;
    /** The first 8 bytes a client sends: "TERN", CR, LF, SUB (0x1A), LF. */
    byte[] PREFACE = {'T', 'E', 'R', 'N', 0x0D, 0x0A, 0x1A, 0x0A};

    int PREFIX_BYTES = 4;
    int HEADER_BYTES = 8;
    int TYPE_OFFSET = 4;
    int FLAGS_OFFSET = 5;
    int RESERVED_OFFSET = 6;
    int ID_OFFSET = 8;
    int BODY_OFFSET = PREFIX_BYTES + HEADER_BYTES;

    FrameType type();

    /** The header's id field: subscription id, correlation id, or 0. */
    default int id() {
        return 0;
    }

    /** Client's opening frame. authMechanism is "" when the client does not authenticate. */
    record Hello(int minVersion, int maxVersion, int maxFrameBytes, int features, String clientName,
                 String clientVersion, String authMechanism, byte[] authData) implements Frame {
        public Hello {
            Objects.requireNonNull(clientName);
            Objects.requireNonNull(clientVersion);
            Objects.requireNonNull(authMechanism);
            Objects.requireNonNull(authData);
        }

        public FrameType type() {
            return FrameType.HELLO;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && minVersion == h.minVersion && maxVersion == h.maxVersion
                    && maxFrameBytes == h.maxFrameBytes && features == h.features
                    && clientName.equals(h.clientName) && clientVersion.equals(h.clientVersion)
                    && authMechanism.equals(h.authMechanism) && Arrays.equals(authData, h.authData);
        }

        @Override
        public int hashCode() {
            return Objects.hash(minVersion, maxVersion, clientName, authMechanism) * 31 + Arrays.hashCode(authData);
        }

        @Override
        public String toString() {
            return "Hello[" + minVersion + ".." + maxVersion + ", maxFrameBytes=" + maxFrameBytes + ", features="
                    + features + ", " + clientName + " " + clientVersion + ", auth=" + authMechanism + "/"
                    + authData.length + "B]";
        }
    }

    /** Server's acceptance of a connection: the chosen version and the limits the client must respect. */
    record Welcome(int version, int maxFrameBytes, int maxSubjectBytes, int maxHeaders, int maxSubscriptions,
                   int pingIntervalMillis, int idleTimeoutMillis, int features, String serverId,
                   String serverVersion, byte[] authData) implements Frame {
        public Welcome {
            Objects.requireNonNull(serverId);
            Objects.requireNonNull(serverVersion);
            Objects.requireNonNull(authData);
        }

        public FrameType type() {
            return FrameType.WELCOME;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Welcome w && version == w.version && maxFrameBytes == w.maxFrameBytes
                    && maxSubjectBytes == w.maxSubjectBytes && maxHeaders == w.maxHeaders
                    && maxSubscriptions == w.maxSubscriptions && pingIntervalMillis == w.pingIntervalMillis
                    && idleTimeoutMillis == w.idleTimeoutMillis && features == w.features
                    && serverId.equals(w.serverId) && serverVersion.equals(w.serverVersion)
                    && Arrays.equals(authData, w.authData);
        }

        @Override
        public int hashCode() {
            return Objects.hash(version, maxFrameBytes, serverId) * 31 + Arrays.hashCode(authData);
        }

        @Override
        public String toString() {
            return "Welcome[v" + version + ", maxFrameBytes=" + maxFrameBytes + ", maxSubjectBytes=" + maxSubjectBytes
                    + ", maxHeaders=" + maxHeaders + ", maxSubscriptions=" + maxSubscriptions + ", ping="
                    + pingIntervalMillis + "ms, idle=" + idleTimeoutMillis + "ms, features=" + features + ", "
                    + serverId + " " + serverVersion + ", auth=" + authData.length + "B]";
        }
    }

    /** A client's next authentication message (after CHALLENGE). */
    record Auth(byte[] data) implements Frame {
        public FrameType type() {
            return FrameType.AUTH;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Auth a && Arrays.equals(data, a.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Auth[" + data.length + "B]";
        }
    }

    /** A server's authentication challenge; the client answers with AUTH. */
    record Challenge(byte[] data) implements Frame {
        public FrameType type() {
            return FrameType.CHALLENGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Challenge c && Arrays.equals(data, c.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Challenge[" + data.length + "B]";
        }
    }

    record Ping(int id) implements Frame {
        public FrameType type() {
            return FrameType.PING;
        }
    }

    record Pong(int id) implements Frame {
        public FrameType type() {
            return FrameType.PONG;
        }
    }

    /** The server will close the connection after drainMillis: finish, stop publishing, reconnect elsewhere. */
    record GoAway(int code, int drainMillis, String text) implements Frame {
        public FrameType type() {
            return FrameType.GOAWAY;
        }
    }

    /** A failure; id names the failed frame (0: the connection). code is an {@link ErrorCode} number. */
    record Error(int id, int code, boolean closing, String text) implements Frame {
        public FrameType type() {
            return FrameType.ERROR;
        }
    }

    /** Success of the client frame whose id this carries (sent only when that frame set the ACK flag). */
    record Ok(int id) implements Frame {
        public FrameType type() {
            return FrameType.OK;
        }
    }

    /** Publish. reply is null when absent; headers empty when absent. */
    record Pub(int id, boolean ack, String subject, String reply, Map<String, String> headers, byte[] payload)
            implements Frame {
        public Pub {
            Objects.requireNonNull(subject);
            headers = orderedCopy(headers);
            Objects.requireNonNull(payload);
        }

        public FrameType type() {
            return FrameType.PUB;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Pub p && id == p.id && ack == p.ack && subject.equals(p.subject)
                    && Objects.equals(reply, p.reply) && headers.equals(p.headers) && Arrays.equals(payload, p.payload);
        }

        @Override
        public int hashCode() {
            return Objects.hash(id, subject, reply, headers) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Pub[id=" + id + (ack ? ", ack" : "") + ", " + subject + (reply != null ? " reply " + reply : "")
                    + ", headers=" + headers + ", " + payload.length + "B]";
        }
    }

    /**
     * Subscribe. queue is null for a plain subscription ("" is taken as null: the wire has one encoding for
     * "no queue group"); maxPendingMessages 0 means the server's default.
     */
    record Sub(int id, boolean ack, String subject, String queue, SlowConsumerPolicy policy, int maxPendingMessages)
            implements Frame {
        public Sub {
            Objects.requireNonNull(subject);
            Objects.requireNonNull(policy);
            if (queue != null && queue.isEmpty()) {
                queue = null;
            }
        }

        public FrameType type() {
            return FrameType.SUB;
        }
    }

    /** Unsubscribe now (afterMessages 0) or once the subscription has delivered afterMessages in total. */
    record Unsub(int id, boolean ack, int afterMessages) implements Frame {
        public FrameType type() {
            return FrameType.UNSUB;
        }
    }

    /** A delivery to subscription id. */
    record Msg(int id, boolean noResponders, String subject, String reply, Map<String, String> headers,
               byte[] payload) implements Frame {
        public Msg {
            Objects.requireNonNull(subject);
            headers = orderedCopy(headers);
            Objects.requireNonNull(payload);
        }

        public FrameType type() {
            return FrameType.MSG;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Msg m && id == m.id && noResponders == m.noResponders && subject.equals(m.subject)
                    && Objects.equals(reply, m.reply) && headers.equals(m.headers) && Arrays.equals(payload, m.payload);
        }

        @Override
        public int hashCode() {
            return Objects.hash(id, subject, reply, headers) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Msg[sid=" + id + (noResponders ? ", no-responders" : "") + ", " + subject
                    + (reply != null ? " reply " + reply : "") + ", headers=" + headers + ", " + payload.length + "B]";
        }
    }

    // ---- durable queues (0x20..0x2F; docs/protocol.md 6.15..6.30) ------------------------------------------

    /** Declare a queue (create, or check the options of an existing one); answered with QINFO or ERROR. */
    record QDeclare(int id, String name, QueueSpec spec) implements Frame {
        public QDeclare {
            Objects.requireNonNull(name);
            Objects.requireNonNull(spec);
        }

        public FrameType type() {
            return FrameType.QDECLARE;
        }
    }

    /** Delete a queue and its messages; answered with OK or ERROR. */
    record QDelete(int id, String name) implements Frame {
        public QDelete {
            Objects.requireNonNull(name);
        }

        public FrameType type() {
            return FrameType.QDELETE;
        }
    }

    /** Remove a queue's ready messages; answered with COUNT (messages removed) or ERROR. */
    record QPurge(int id, String name) implements Frame {
        public QPurge {
            Objects.requireNonNull(name);
        }

        public FrameType type() {
            return FrameType.QPURGE;
        }
    }

    /** List queues (name "" = all, else that one): answered with one QINFO per queue, then COUNT, or ERROR. */
    record QList(int id, String name) implements Frame {
        public QList {
            Objects.requireNonNull(name);
        }

        public FrameType type() {
            return FrameType.QLIST;
        }
    }

    /** A queue's options and counters; failure is "" when the queue is healthy. */
    record QInfo(int id, String name, QueueSpec spec, long depth, long depthBytes, long unacked, int consumers,
                 long published, long delivered, long redelivered, long acked, long deadLettered, long expired,
                 long dropped, String failure) implements Frame {
        public QInfo {
            Objects.requireNonNull(name);
            Objects.requireNonNull(spec);
            Objects.requireNonNull(failure);
        }

        public FrameType type() {
            return FrameType.QINFO;
        }
    }

    /** Move a dead-letter queue's ready messages back to their origin (target "") or to target; answered with COUNT. */
    record QRedrive(int id, String deadLetterQueue, String target) implements Frame {
        public QRedrive {
            Objects.requireNonNull(deadLetterQueue);
            Objects.requireNonNull(target);
        }

        public FrameType type() {
            return FrameType.QREDRIVE;
        }
    }

    /** Publish one message into a queue; with confirm (flag ACK) the server answers CONFIRM once it is durable. */
    record Send(int id, boolean confirm, String queue, Map<String, String> headers, byte[] payload) implements Frame {
        public Send {
            Objects.requireNonNull(queue);
            headers = orderedCopy(headers);
            Objects.requireNonNull(payload);
        }

        public FrameType type() {
            return FrameType.SEND;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Send s && id == s.id && confirm == s.confirm && queue.equals(s.queue)
                    && headers.equals(s.headers) && Arrays.equals(payload, s.payload);
        }

        @Override
        public int hashCode() {
            return Objects.hash(id, queue, headers) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Send[id=" + id + (confirm ? ", confirm" : "") + ", " + queue + ", headers=" + headers + ", "
                    + payload.length + "B]";
        }
    }

    /** The durability receipt of SEND id: the message's offset in its queue's log, and whether it was fsynced. */
    record Confirm(int id, long offset, boolean fsynced) implements Frame {
        public FrameType type() {
            return FrameType.CONFIRM;
        }
    }

    /** Attach consumer id (chosen by the client) to a queue with a prefetch (most unacked deliveries). */
    record Consume(int id, boolean ack, String queue, int prefetch, boolean autoAck) implements Frame {
        public Consume {
            Objects.requireNonNull(queue);
        }

        public FrameType type() {
            return FrameType.CONSUME;
        }
    }

    /** Detach consumer id; its unacked deliveries are redelivered. */
    record Cancel(int id, boolean ack) implements Frame {
        public FrameType type() {
            return FrameType.CANCEL;
        }
    }

    /**
     * One delivery to consumer id. deadLetterOrigin is null unless the message came from a dead-letter queue;
     * then deadLetterReason (1 EXPIRED, 2 REJECTED, 3 MAX_DELIVERIES) and deadLetterCount say why and after how
     * many deliveries (both 0 otherwise).
     */
    record Deliver(int id, long token, long offset, int deliveryCount, String deadLetterOrigin, int deadLetterReason,
                   int deadLetterCount, String subject, Map<String, String> headers, byte[] payload) implements Frame {
        public Deliver {
            Objects.requireNonNull(subject);
            headers = orderedCopy(headers);
            Objects.requireNonNull(payload);
            if (deadLetterOrigin == null && (deadLetterReason != 0 || deadLetterCount != 0)) {
                throw new IllegalArgumentException("dead-letter reason/count without an origin");
            }
        }

        public FrameType type() {
            return FrameType.DELIVER;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Deliver d && id == d.id && token == d.token && offset == d.offset
                    && deliveryCount == d.deliveryCount && Objects.equals(deadLetterOrigin, d.deadLetterOrigin)
                    && deadLetterReason == d.deadLetterReason && deadLetterCount == d.deadLetterCount
                    && subject.equals(d.subject) && headers.equals(d.headers) && Arrays.equals(payload, d.payload);
        }

        @Override
        public int hashCode() {
            return Objects.hash(id, token, offset, subject) * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Deliver[consumer=" + id + ", token=" + token + ", offset=" + offset + ", count=" + deliveryCount
                    + (deadLetterOrigin != null ? ", dead letter of " + deadLetterOrigin + " reason "
                    + deadLetterReason + " after " + deadLetterCount : "") + ", " + subject + ", headers=" + headers
                    + ", " + payload.length + "B]";
        }
    }

    /** Acknowledge deliveries of consumer id, by token (a batch: one frame per write burst). */
    record Ack(int id, long[] tokens) implements Frame {
        public Ack {
            tokens = tokens.clone();
        }

        public FrameType type() {
            return FrameType.ACK;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ack a && id == a.id && Arrays.equals(tokens, a.tokens);
        }

        @Override
        public int hashCode() {
            return id * 31 + Arrays.hashCode(tokens);
        }

        @Override
        public String toString() {
            return "Ack[consumer=" + id + ", tokens=" + Arrays.toString(tokens) + "]";
        }
    }

    /** Requeue a delivery of consumer id, now (delay 0) or after delayMillis. */
    record Nack(int id, long token, int delayMillis) implements Frame {
        public FrameType type() {
            return FrameType.NACK;
        }
    }

    /** Dead-letter a delivery of consumer id (reason REJECTED). */
    record Reject(int id, long token) implements Frame {
        public FrameType type() {
            return FrameType.REJECT;
        }
    }

    /**
     * A count answering request id (QPURGE: removed, QREDRIVE: moved, QLIST: QINFO frames sent before it, QBIND:
     * bindings added or removed, 0 or 1).
     */
    record Count(int id, long count) implements Frame {
        public FrameType type() {
            return FrameType.COUNT;
        }
    }

    /**
     * Bind a subject pattern to an existing queue, or with unbind (flag UNBIND) remove that binding; answered with
     * COUNT (bindings added or removed: 1, or 0 when already bound / not bound) or ERROR.
     */
    record QBind(int id, boolean unbind, String queue, String pattern) implements Frame {
        public QBind {
            Objects.requireNonNull(queue);
            Objects.requireNonNull(pattern);
        }

        public FrameType type() {
            return FrameType.QBIND;
        }
    }

    /**
     * An unmodifiable copy that keeps the caller's iteration order, so that encoding is deterministic
     * (Map.copyOf's order changes from one JVM run to the next) and header order survives a round trip.
     */
    private static Map<String, String> orderedCopy(Map<String, String> headers) {
        Map<String, String> copy = new LinkedHashMap<>(headers.size() * 2);
        headers.forEach((k, v) -> copy.put(Objects.requireNonNull(k), Objects.requireNonNull(v)));
        return Collections.unmodifiableMap(copy);
    }

    /** count messages for subscription id were dropped (slow consumer, DROP_OLDEST) since the last DROPPED. */
    record Dropped(int id, long count) implements Frame {
        public FrameType type() {
            return FrameType.DROPPED;
        }
    }
}
