package tern.client;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A received message.
 *
 * @param subject the subject it was published to
 * @param replyTo the publisher's reply subject, null when absent
 * @param headers header entries, empty when absent (unmodifiable)
 * @param payload the payload bytes (owned by this message)
 * @param sid     the id of the subscription that received it
 */
public record Message(String subject, String replyTo, Map<String, String> headers, byte[] payload, int sid) {
    /** The payload decoded as UTF-8. */
    public String payloadAsString() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "Message[" + subject + (replyTo != null ? " reply " + replyTo : "") + ", headers=" + headers
                + ", " + payload.length + "B, sid=" + sid + "]";
    }
}
