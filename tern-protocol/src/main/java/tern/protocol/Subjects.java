package tern.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The subject rules (docs/protocol.md, "Subjects"). A subject is 1..maxSubjectBytes bytes of UTF-8,
 * split by '.' into 1..maxSubjectTokens non-empty tokens, with no byte below 0x21 (space, control)
 * and no 0x7F. In a pattern a token may be exactly '*' (any one token) or, as the last token, exactly
 * '>' (one or more tokens). A subject that is published to contains no '*' or '>' at all.
 */
public final class Subjects {
    public static final byte SEPARATOR = '.';
    public static final byte ONE = '*';
    public static final byte REST = '>';

    /** Checks a publish subject in place; throws ProtocolException(BAD_SUBJECT) naming the rule broken. */
    public static void checkSubject(ByteBuffer b, int offset, int length, int maxBytes, int maxTokens) {
        check(b, offset, length, maxBytes, maxTokens, false);
    }

    /** Checks a subscription pattern in place. */
    public static void checkPattern(ByteBuffer b, int offset, int length, int maxBytes, int maxTokens) {
        check(b, offset, length, maxBytes, maxTokens, true);
    }

    public static void checkSubject(String subject, int maxBytes, int maxTokens) {
        ByteBuffer b = ByteBuffer.wrap(subject.getBytes(StandardCharsets.UTF_8));
        check(b, 0, b.limit(), maxBytes, maxTokens, false);
    }

    public static void checkPattern(String pattern, int maxBytes, int maxTokens) {
        ByteBuffer b = ByteBuffer.wrap(pattern.getBytes(StandardCharsets.UTF_8));
        check(b, 0, b.limit(), maxBytes, maxTokens, true);
    }

    /** True when the subject obeys the rules (no exception); for callers that prefer a boolean. */
    public static boolean isValidSubject(String subject, int maxBytes, int maxTokens) {
        try {
            checkSubject(subject, maxBytes, maxTokens);
            return true;
        } catch (ProtocolException e) {
            return false;
        }
    }

    private static void check(ByteBuffer b, int offset, int length, int maxBytes, int maxTokens, boolean pattern) {
        String what = pattern ? "pattern" : "subject";
        if (length == 0) {
            throw bad(what + " is empty");
        }
        if (length > maxBytes) {
            throw bad(what + " " + length + " bytes > max " + maxBytes);
        }
        int tokens = 1;
        int tokenStart = offset;
        int end = offset + length;
        for (int i = offset; i <= end; i++) {
            byte c = i == end ? SEPARATOR : b.get(i);
            if (c == SEPARATOR) {
                int tokenBytes = i - tokenStart;
                if (tokenBytes == 0) {
                    throw bad(what + " has an empty token at byte " + (i - offset));
                }
                if (i != end && ++tokens > maxTokens) {
                    throw bad(what + " has more than " + maxTokens + " tokens");
                }
                if (tokenBytes == 1) {
                    byte t = b.get(tokenStart);
                    if (t == REST && i != end) {
                        throw bad("'>' must be the last token of a pattern");
                    }
                }
                tokenStart = i + 1;
            } else if ((c & 0xFF) < 0x21 || c == 0x7F) {
                throw bad(what + " has byte 0x" + Integer.toHexString(c & 0xFF) + " at " + (i - offset)
                        + " (no spaces or control characters)");
            } else if (c == ONE || c == REST) {
                if (!pattern) {
                    throw bad("subject has wildcard '" + (char) c + "': wildcards are only for subscriptions");
                }
                boolean alone = i == tokenStart && (i + 1 == end || b.get(i + 1) == SEPARATOR);
                if (!alone) {
                    throw bad("wildcard '" + (char) c + "' must be a whole token");
                }
            }
        }
    }

    private static ProtocolException bad(String message) {
        return new ProtocolException(ErrorCode.BAD_SUBJECT, message);
    }

    private Subjects() {
    }
}
