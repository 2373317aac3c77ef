package tern.queue;

/**
 * Matches published subjects against a bound pattern with the protocol's wildcards: '*' is exactly one token, a
 * trailing '>' is one or more tokens. Both sides were validated by {@link tern.protocol.Subjects}.
 */
final class SubjectPattern {
    private final String pattern;
    private final String[] tokens;

    SubjectPattern(String pattern) {
        this.pattern = pattern;
        this.tokens = pattern.split("\\.", -1);
    }

    String pattern() {
        return pattern;
    }

    boolean matches(String subject) {
        int t = 0;
        int start = 0;
        int n = subject.length();
        while (start <= n) {
            if (t == tokens.length) {
                return false;
            }
            int dot = subject.indexOf('.', start);
            int end = dot < 0 ? n : dot;
            String tok = tokens[t];
            if (tok.equals(">")) {
                return true;
            }
            if (!tok.equals("*") && !subject.regionMatches(start, tok, 0, tok.length())
                    || !tok.equals("*") && tok.length() != end - start) {
                return false;
            }
            t++;
            if (dot < 0) {
                break;
            }
            start = dot + 1;
        }
        return t == tokens.length;
    }
}
