package tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static tern.protocol.FramesTest.expect;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class SubjectsTest {
    private static final int BYTES = Limits.DEFAULT.maxSubjectBytes();
    private static final int TOKENS = Limits.DEFAULT.maxSubjectTokens();

    @ParameterizedTest
    @ValueSource(strings = {"a", "orders", "orders.eu", "orders.eu.created", "_INBOX.k3.1", "a-b_c.D~E!#$%&",
        "prix.\u00c9T\u00c9", "\u4e2d.\u6587", "1.2.3", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.0.1.2.3.4.5"})
    void validSubjectsAreValidPatternsToo(String s) {
        Subjects.checkSubject(s, BYTES, TOKENS);
        Subjects.checkPattern(s, BYTES, TOKENS);
        assertThat(Subjects.isValidSubject(s, BYTES, TOKENS)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", ">", "orders.*", "orders.>", "*.*", "*.eu.>", "a.*.c", "*.>"})
    void wildcardsAreForPatternsOnly(String s) {
        Subjects.checkPattern(s, BYTES, TOKENS);
        expect(() -> Subjects.checkSubject(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT).hasMessageContaining("wildcard");
        assertThat(Subjects.isValidSubject(s, BYTES, TOKENS)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", ".a", "a.", "a..b", "a.b.", ".a.b", "a. .b"})
    void rejectsEmptyTokens(String s) {
        String expected = s.isEmpty() ? "empty" : s.contains(" ") ? "0x20" : "empty token";
        expect(() -> Subjects.checkSubject(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT).hasMessageContaining(expected);
        expect(() -> Subjects.checkPattern(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT).hasMessageContaining(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", " a", "a ", "a\tb", "a\nb", "a\rb", "a\u0000b", "a\u001fb", "a\u007fb"})
    void rejectsSpacesAndControlBytes(String s) {
        expect(() -> Subjects.checkSubject(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("no spaces or control characters");
        expect(() -> Subjects.checkPattern(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ord*", "*s", "a.b*", "a.*b.c", "a>", ">a", "a.b>", "a.>>", "**", "*>", "a.>*"})
    void rejectsWildcardsInsideTokens(String s) {
        expect(() -> Subjects.checkPattern(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("must be a whole token");
        expect(() -> Subjects.checkSubject(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT);
    }

    @ParameterizedTest
    @ValueSource(strings = {">.a", "a.>.b", ">.>", ">.*"})
    void rejectsRestWildcardBeforeTheLastToken(String s) {
        expect(() -> Subjects.checkPattern(s, BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("last token");
    }

    @Test
    void lengthIsCountedInUtf8Bytes() {
        Subjects.checkSubject("a".repeat(BYTES), BYTES, TOKENS);
        expect(() -> Subjects.checkSubject("a".repeat(BYTES + 1), BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining((BYTES + 1) + " bytes > max " + BYTES);
        String e128 = "\u00e9".repeat(128); // 256 bytes
        Subjects.checkPattern(e128, BYTES, TOKENS);
        expect(() -> Subjects.checkPattern(e128 + "x", BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("257 bytes");
    }

    @Test
    void tokenCountIsLimited() {
        String max = "a" + ".a".repeat(TOKENS - 1);
        Subjects.checkSubject(max, BYTES, TOKENS);
        Subjects.checkPattern(max.substring(2) + ".>", BYTES, TOKENS);
        expect(() -> Subjects.checkSubject(max + ".a", BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("more than " + TOKENS + " tokens");
        expect(() -> Subjects.checkPattern(max + ".>", BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("tokens");
        expect(() -> Subjects.checkSubject("a.b", BYTES, 1), ErrorCode.BAD_SUBJECT);
        Subjects.checkSubject("ab", BYTES, 1);
    }

    @Test
    void checksInPlaceAtAnOffset() {
        byte[] bytes = "xx orders.eu yy".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        Subjects.checkSubject(b, 3, 9, BYTES, TOKENS);
        Subjects.checkPattern(b, 3, 9, BYTES, TOKENS);
        expect(() -> Subjects.checkSubject(b, 2, 10, BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("at 0");
        expect(() -> Subjects.checkSubject(b, 3, 10, BYTES, TOKENS), ErrorCode.BAD_SUBJECT)
                .hasMessageContaining("at 9");
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes);
        Subjects.checkPattern(direct, 3, 9, BYTES, TOKENS);
        assertThat(direct.position()).as("checks do not move the buffer").isEqualTo(bytes.length);
    }

    @Test
    void everyByteBelow0x21AndDelIsRejectedAndEveryOtherByteIsAccepted() {
        for (int c = 0; c < 256; c++) {
            ByteBuffer b = ByteBuffer.wrap(new byte[] {'a', (byte) c, 'b'});
            boolean structural = c == '.' || c == '*' || c == '>';
            boolean forbidden = c < 0x21 || c == 0x7F;
            if (structural) {
                continue;
            }
            if (forbidden) {
                expect(() -> Subjects.checkSubject(b, 0, 3, BYTES, TOKENS), ErrorCode.BAD_SUBJECT);
            } else {
                Subjects.checkSubject(b, 0, 3, BYTES, TOKENS);
            }
        }
    }
}
