package tern.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.auth.Scram;

@Timeout(10)
class PasswordsTest {
    private static String stdin(String text) {
        return Passwords.fromStdin(new ByteArrayInputStream(text.getBytes(UTF_8)));
    }

    @Test
    void readsTheFirstLineWithoutItsLineEnd() {
        assertThat(stdin("s3cret\nsecond line\n")).isEqualTo("s3cret");
        assertThat(stdin("crlf\r\n")).isEqualTo("crlf");
        assertThat(stdin("no newline")).isEqualTo("no newline");
        assertThat(stdin(" spaces kept \n")).isEqualTo(" spaces kept ");
        assertThat(stdin("ünïcode\n")).isEqualTo("ünïcode");
    }

    @Test
    void refusesEmptyAndOverlongPasswords() {
        assertThatThrownBy(() -> stdin("\n")).isInstanceOf(CommandFailedException.class).hasMessage("empty password");
        assertThatThrownBy(() -> stdin("")).isInstanceOf(CommandFailedException.class);
        String longest = "x".repeat(Scram.MAX_PASSWORD_BYTES);
        assertThat(stdin(longest + "\n")).isEqualTo(longest);
        assertThatThrownBy(() -> stdin("x".repeat(Scram.MAX_PASSWORD_BYTES + 1) + "\n"))
                .isInstanceOf(CommandFailedException.class).hasMessageContaining("> max");
        assertThatThrownBy(() -> stdin("x".repeat(100_000)))
                .isInstanceOf(CommandFailedException.class).hasMessageContaining("longer than");
    }
}
