package tern.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;
import tern.protocol.Subjects;

/**
 * A permission pattern over subjects or queue names, with tern-protocol's {@link Subjects} rules: '.'
 * separates tokens, a token {@code *} matches exactly one token, a last token {@code >} matches one
 * or more tokens. Immutable and thread-safe.
 */
public final class SubjectPattern {
    static final byte[] ONE = {Subjects.ONE};
    static final byte[] REST = {Subjects.REST};

    private final String text;
    private final byte[][] tokens;

    private SubjectPattern(String text, byte[][] tokens) {
        this.text = text;
        this.tokens = tokens;
    }

    /**
     * Parses a pattern under the default subject limits.
     *
     * @throws IllegalArgumentException naming the broken rule
     */
    public static SubjectPattern parse(String text) {
        try {
            Subjects.checkPattern(text, Limits.DEFAULT.maxSubjectBytes(), Limits.DEFAULT.maxSubjectTokens());
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("bad pattern '" + text + "': " + e.getMessage());
        }
        return new SubjectPattern(text, split(text.getBytes(StandardCharsets.UTF_8)));
    }

    static byte[][] split(byte[] b) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= b.length; i++) {
            if (i == b.length || b[i] == Subjects.SEPARATOR) {
                out.add(Arrays.copyOfRange(b, start, i));
                start = i + 1;
            }
        }
        return out.toArray(new byte[0][]);
    }

    public String text() {
        return text;
    }

    int tokenCount() {
        return tokens.length;
    }

    byte[] token(int i) {
        return tokens[i];
    }

    static boolean isOne(byte[] t) {
        return t.length == 1 && t[0] == Subjects.ONE;
    }

    static boolean isRest(byte[] t) {
        return t.length == 1 && t[0] == Subjects.REST;
    }

    /** True when the literal subject (no wildcards) matches; allocation-free. */
    public boolean matches(ByteBuffer b, int offset, int length) {
        int end = offset + length;
        int pos = offset;
        for (int t = 0; t < tokens.length; t++) {
            if (pos > end) {
                return false;
            }
            byte[] token = tokens[t];
            if (isRest(token)) {
                return pos < end;
            }
            int tokenEnd = pos;
            while (tokenEnd < end && b.get(tokenEnd) != Subjects.SEPARATOR) {
                tokenEnd++;
            }
            if (!isOne(token)) {
                if (tokenEnd - pos != token.length) {
                    return false;
                }
                for (int i = 0; i < token.length; i++) {
                    if (b.get(pos + i) != token[i]) {
                        return false;
                    }
                }
            }
            pos = tokenEnd + 1;
        }
        return pos == end + 1;
    }

    public boolean matches(String subject) {
        byte[] b = subject.getBytes(StandardCharsets.UTF_8);
        return matches(ByteBuffer.wrap(b), 0, b.length);
    }

    /** True when some subject matches both this pattern and other. */
    public boolean intersects(SubjectPattern other) {
        byte[][] a = tokens;
        byte[][] b = other.tokens;
        for (int i = 0; ; i++) {
            if (i == a.length || i == b.length) {
                return a.length == b.length;
            }
            if (isRest(a[i]) || isRest(b[i])) {
                return true;
            }
            if (!isOne(a[i]) && !isOne(b[i]) && !Arrays.equals(a[i], b[i])) {
                return false;
            }
        }
    }

    /**
     * True when every subject the pattern matches is matched by at least one of allows (union
     * coverage: {@code a.*} and {@code a.*.>} together cover {@code a.>}).
     */
    static boolean covered(byte[][] pattern, int from, List<byte[][]> allows) {
        if (allows.isEmpty()) {
            return false;
        }
        if (from == pattern.length) {
            for (byte[][] a : allows) {
                if (a.length == from) {
                    return true;
                }
            }
            return false;
        }
        List<byte[][]> next = new ArrayList<>(allows.size());
        byte[] p = pattern[from];
        for (byte[][] a : allows) {
            if (a.length <= from) {
                continue;
            }
            byte[] t = a[from];
            if (isRest(t)) {
                return true;
            }
            if (isOne(t) || (!isOne(p) && !isRest(p) && Arrays.equals(t, p))) {
                next.add(a);
            }
        }
        if (isRest(p)) {
            // '>' here = exactly one more token, or one token followed by '>' (one or more).
            byte[][] oneToken = Arrays.copyOf(pattern, from + 1);
            oneToken[from] = ONE;
            byte[][] longer = Arrays.copyOf(pattern, from + 2);
            longer[from] = ONE;
            longer[from + 1] = REST;
            return covered(oneToken, from + 1, next) && covered(longer, from + 1, next);
        }
        return covered(pattern, from + 1, next);
    }

    byte[][] tokens() {
        return tokens;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SubjectPattern p && text.equals(p.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
