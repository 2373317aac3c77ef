package tern.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.Subjects;

class InboxTest {
    private static long tokenOf(Inbox inbox, String subject) {
        byte[] b = ("xx" + subject).getBytes(StandardCharsets.UTF_8);
        return inbox.tokenOf(ByteBuffer.wrap(b), 2, b.length - 2);
    }

    @Test
    @Timeout(10)
    void replySubjectsCarryFreshTokensThatParseBack() {
        Inbox inbox = new Inbox();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            long token = inbox.nextToken();
            assertThat(seen.add(token)).isTrue();
            String reply = new String(inbox.replySubject(token), StandardCharsets.US_ASCII);
            assertThat(Subjects.isValidSubject(reply, 256, 32)).isTrue();
            assertThat(reply).startsWith(inbox.pattern().substring(0, inbox.pattern().length() - 1));
            assertThat(tokenOf(inbox, reply)).isEqualTo(token);
        }
        assertThat(tokenOf(inbox, new String(inbox.replySubject(Long.MAX_VALUE / 1000), StandardCharsets.US_ASCII)))
                .isEqualTo(Long.MAX_VALUE / 1000);
    }

    @Test
    @Timeout(10)
    void foreignOrMalformedSubjectsAreNotTokens() {
        Inbox inbox = new Inbox("abc");
        assertThat(tokenOf(inbox, "_INBOX.abc.z")).isEqualTo(35);
        assertThat(tokenOf(inbox, "_INBOX.abd.1")).isEqualTo(-1);
        assertThat(tokenOf(inbox, "_INBOX.abc.")).isEqualTo(-1);
        assertThat(tokenOf(inbox, "_INBOX.abc.Z")).isEqualTo(-1);
        assertThat(tokenOf(inbox, "_INBOX.abc.1.2")).isEqualTo(-1);
        assertThat(tokenOf(inbox, "_INBOX.abc.1234567890123")).isEqualTo(-1);
        assertThat(tokenOf(inbox, "_INBOX.ab")).isEqualTo(-1);
        assertThat(tokenOf(inbox, "orders.eu")).isEqualTo(-1);
    }

    @Test
    @Timeout(10)
    void inboxIdsDiffer() {
        assertThat(new Inbox().pattern()).isNotEqualTo(new Inbox().pattern()).endsWith(".*").startsWith("_INBOX.");
    }
}
