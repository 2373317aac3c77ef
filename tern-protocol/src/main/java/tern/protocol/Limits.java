package tern.protocol;

import java.time.Duration;

/**
 * The bounds a connection lives under. The server sends its ceilings in WELCOME; a client may ask
 * for a smaller maximum frame, never a larger one. Every bound is checked before memory is
 * allocated for what it bounds.
 *
 * @param maxFrameBytes           largest frame body (header + body, excluding the 4-byte length) after WELCOME
 * @param maxPreAuthFrameBytes    largest frame body before WELCOME (HELLO, AUTH)
 * @param maxSubjectBytes         longest subject or pattern, in UTF-8 bytes
 * @param maxSubjectTokens        most dot-separated tokens in a subject or pattern
 * @param maxHeaders              most header entries in one message
 * @param maxSubscriptions        most live subscriptions on one connection
 * @param maxConnections          most open client connections on one server
 * @param maxPendingBytes         most bytes queued for one connection's socket before its slow-consumer policy applies
 * @param maxPendingMessages      most messages one subscription may hold pending while its connection is slow
 * @param handshakeTimeout        time from accept to WELCOME; past it the connection is closed
 * @param pingInterval            a side sends PING after this long without sending anything
 * @param idleTimeout             a side closes the connection after this long without receiving anything
 */
public record Limits(
        int maxFrameBytes,
        int maxPreAuthFrameBytes,
        int maxSubjectBytes,
        int maxSubjectTokens,
        int maxHeaders,
        int maxSubscriptions,
        int maxConnections,
        long maxPendingBytes,
        int maxPendingMessages,
        Duration handshakeTimeout,
        Duration pingInterval,
        Duration idleTimeout) {

    /** Largest frame any Tern implementation accepts, whatever is configured: 64 MiB. */
    public static final int ABSOLUTE_MAX_FRAME_BYTES = 64 << 20;

    public static final Limits DEFAULT = new Limits(
            1 << 20,
            8 << 10,
            256,
            32,
            64,
            10_000,
            65_536,
            64L << 20,
            65_536,
            Duration.ofSeconds(5),
            Duration.ofSeconds(30),
            Duration.ofSeconds(90));

    public Limits {
        requireRange("maxFrameBytes", maxFrameBytes, Frame.HEADER_BYTES + 64, ABSOLUTE_MAX_FRAME_BYTES);
        requireRange("maxPreAuthFrameBytes", maxPreAuthFrameBytes, 512, maxFrameBytes);
        requireRange("maxSubjectBytes", maxSubjectBytes, 1, Codec.MAX_STRING_BYTES);
        requireRange("maxSubjectTokens", maxSubjectTokens, 1, 1024);
        requireRange("maxHeaders", maxHeaders, 0, Codec.MAX_STRING_BYTES);
        requireRange("maxSubscriptions", maxSubscriptions, 1, Integer.MAX_VALUE);
        requireRange("maxConnections", maxConnections, 1, Integer.MAX_VALUE);
        if (maxPendingBytes < maxFrameBytes) {
            throw new IllegalArgumentException("maxPendingBytes " + maxPendingBytes
                    + " < maxFrameBytes " + maxFrameBytes);
        }
        requireRange("maxPendingMessages", maxPendingMessages, 1, Integer.MAX_VALUE);
        requirePositive("handshakeTimeout", handshakeTimeout);
        requirePositive("pingInterval", pingInterval);
        requirePositive("idleTimeout", idleTimeout);
        if (idleTimeout.compareTo(pingInterval) <= 0) {
            throw new IllegalArgumentException("idleTimeout " + idleTimeout + " must exceed pingInterval " + pingInterval);
        }
    }

    public Limits withMaxFrameBytes(int v) {
        return new Limits(v, Math.min(maxPreAuthFrameBytes, v), maxSubjectBytes, maxSubjectTokens, maxHeaders,
                maxSubscriptions, maxConnections, Math.max(maxPendingBytes, v), maxPendingMessages,
                handshakeTimeout, pingInterval, idleTimeout);
    }

    public Limits withMaxSubscriptions(int v) {
        return new Limits(maxFrameBytes, maxPreAuthFrameBytes, maxSubjectBytes, maxSubjectTokens, maxHeaders,
                v, maxConnections, maxPendingBytes, maxPendingMessages, handshakeTimeout, pingInterval, idleTimeout);
    }

    public Limits withMaxConnections(int v) {
        return new Limits(maxFrameBytes, maxPreAuthFrameBytes, maxSubjectBytes, maxSubjectTokens, maxHeaders,
                maxSubscriptions, v, maxPendingBytes, maxPendingMessages, handshakeTimeout, pingInterval, idleTimeout);
    }

    public Limits withMaxPending(long bytes, int messages) {
        return new Limits(maxFrameBytes, maxPreAuthFrameBytes, maxSubjectBytes, maxSubjectTokens, maxHeaders,
                maxSubscriptions, maxConnections, bytes, messages, handshakeTimeout, pingInterval, idleTimeout);
    }

    public Limits withSubjects(int bytes, int tokens) {
        return new Limits(maxFrameBytes, maxPreAuthFrameBytes, bytes, tokens, maxHeaders,
                maxSubscriptions, maxConnections, maxPendingBytes, maxPendingMessages,
                handshakeTimeout, pingInterval, idleTimeout);
    }

    public Limits withTimeouts(Duration handshake, Duration ping, Duration idle) {
        return new Limits(maxFrameBytes, maxPreAuthFrameBytes, maxSubjectBytes, maxSubjectTokens, maxHeaders,
                maxSubscriptions, maxConnections, maxPendingBytes, maxPendingMessages, handshake, ping, idle);
    }

    private static void requireRange(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " " + value + " outside " + min + ".." + max);
        }
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }
}
