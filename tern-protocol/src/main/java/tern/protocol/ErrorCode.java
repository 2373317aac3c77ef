package tern.protocol;

/**
 * Stable error codes carried by ERROR frames. A code is never reused or renumbered; new codes are
 * appended. The hundreds digit groups codes: 1xx protocol, 2xx connection and limits, 3xx security,
 * 4xx queues, 5xx server.
 *
 * <p>{@link #closesConnection()} says whether the server closes the connection after sending the
 * error; {@link #retriable()} says whether repeating the same request later may succeed.
 */
public enum ErrorCode {
    BAD_PREFACE(100, true, false, "the first bytes were not the Tern preface"),
    UNSUPPORTED_VERSION(101, true, false, "no protocol version in common"),
    BAD_FRAME_LENGTH(102, true, false, "frame length outside the allowed range"),
    UNKNOWN_FRAME_TYPE(103, true, false, "frame type not defined for this direction"),
    MALFORMED_FRAME(104, true, false, "frame body does not match its type's layout"),
    UNEXPECTED_FRAME(105, true, false, "frame not allowed in the connection's current state"),
    BAD_SUBJECT(106, false, false, "subject or pattern violates the subject rules or limits"),
    DUPLICATE_SUBSCRIPTION(107, false, false, "subscription id already in use on this connection"),
    UNKNOWN_SUBSCRIPTION(108, false, false, "no subscription with that id on this connection"),

    HANDSHAKE_TIMEOUT(200, true, true, "handshake not completed within the handshake timeout"),
    IDLE_TIMEOUT(201, true, true, "nothing received within the idle timeout"),
    SLOW_CONSUMER(202, true, true, "the subscriber could not keep up and its policy is to disconnect"),
    SERVER_SHUTDOWN(203, true, true, "the server is shutting down"),
    TOO_MANY_CONNECTIONS(204, true, true, "the server's connection limit is reached"),
    TOO_MANY_SUBSCRIPTIONS(205, false, false, "the connection's subscription limit is reached"),
    LIMIT_EXCEEDED(206, false, false, "a field exceeds a negotiated limit (headers, text, count)"),

    AUTH_REQUIRED(300, true, false, "the server requires authentication"),
    AUTH_FAILED(301, true, true, "authentication failed"),
    PERMISSION_DENIED(302, false, false, "the user may not perform this operation on this subject or queue"),
    UNSUPPORTED_MECHANISM(303, true, false, "authentication mechanism not offered by the server"),
    TLS_REQUIRED(304, true, false, "the server accepts only TLS on this port; reconnect with TLS"),

    QUEUE_NOT_FOUND(400, false, false, "no queue with that name"),
    QUEUE_OPTIONS_MISMATCH(401, false, false, "the queue exists with different options; the message names the first"),
    QUEUE_FULL(402, false, true, "the queue is at its max length (messages or bytes) and its overflow policy rejects"),
    STALE_DELIVERY(403, false, false, "the delivery timed out or was settled and redelivered; this ack no longer applies"),
    UNKNOWN_DELIVERY(404, false, false, "no delivery with that token was ever issued by this queue"),
    STORAGE_FAILED(405, false, false, "the queue's storage failed (fsync or I/O); it accepts no writes until restarted"),
    DISK_FULL(406, false, true, "the queue's disk is full; the publish was refused and nothing confirmed is lost"),
    QUEUE_LIMIT(407, false, true, "a queue limit is reached: queue count, consumers per queue or bindings per queue"),
    BAD_QUEUE_OPTIONS(408, false, false, "a queue name, option value or pattern violates the queue rules"),
    MESSAGE_TOO_LARGE(409, false, false, "the message exceeds the queue engine's max message bytes"),
    QUEUE_MEMORY_FULL(410, false, true, "the memory all queues may hold (max_queue_memory_bytes) is full; the publish was refused"),

    INTERNAL_ERROR(500, true, true, "unexpected server error");

    private static final ErrorCode[] BY_CODE = new ErrorCode[1000];

    static {
        for (ErrorCode e : values()) {
            if (BY_CODE[e.code] != null) {
                throw new IllegalStateException("duplicate error code " + e.code);
            }
            BY_CODE[e.code] = e;
        }
    }

    private final int code;
    private final boolean closesConnection;
    private final boolean retriable;
    private final String description;

    ErrorCode(int code, boolean closesConnection, boolean retriable, String description) {
        this.code = code;
        this.closesConnection = closesConnection;
        this.retriable = retriable;
        this.description = description;
    }

    /** The number on the wire. */
    public int code() {
        return code;
    }

    /** True when the server closes the connection after sending this error. */
    public boolean closesConnection() {
        return closesConnection;
    }

    /** True when the same request may succeed later (after reconnect, backoff, or freed capacity). */
    public boolean retriable() {
        return retriable;
    }

    public String description() {
        return description;
    }

    /** The code for a wire number, or null when this version does not know it. */
    public static ErrorCode of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
