package tern.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A connection's reply inbox: one wildcard subscription {@code _INBOX.<random>.*} and a fresh
 * base-36 token per request, so a reply's subject names the request it answers. Tokens are parsed
 * from the reply's subject bytes without allocating.
 */
final class Inbox {
    static final String PREFIX = "_INBOX.";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private final String prefix;
    private final byte[] prefixBytes;
    private final AtomicLong nextToken = new AtomicLong(1);

    Inbox() {
        this(randomId(22));
    }

    Inbox(String id) {
        this.prefix = PREFIX + id + ".";
        this.prefixBytes = prefix.getBytes(StandardCharsets.US_ASCII);
    }

    static String randomId(int chars) {
        byte[] random = new byte[chars];
        RANDOM.nextBytes(random);
        StringBuilder sb = new StringBuilder(chars);
        for (byte b : random) {
            sb.append(ALPHABET[(b & 0xFF) % ALPHABET.length]);
        }
        return sb.toString();
    }

    /** The pattern the inbox subscribes to. */
    String pattern() {
        return prefix + "*";
    }

    long nextToken() {
        return nextToken.getAndIncrement();
    }

    /** The reply subject of a request with this token. */
    byte[] replySubject(long token) {
        return (prefix + Long.toString(token, 36)).getBytes(StandardCharsets.US_ASCII);
    }

    /** The token in a reply subject [offset, offset + length) of b, or -1 when it is not one of ours. */
    long tokenOf(ByteBuffer b, int offset, int length) {
        int n = prefixBytes.length;
        int digits = length - n;
        if (digits < 1 || digits > 12) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (b.get(offset + i) != prefixBytes[i]) {
                return -1;
            }
        }
        long token = 0;
        for (int i = offset + n; i < offset + length; i++) {
            int d = Character.digit(b.get(i), 36);
            if (d < 0 || Character.isUpperCase(b.get(i))) {
                return -1;
            }
            token = token * 36 + d;
        }
        return token;
    }
}
