package tern.client;

import java.util.Objects;
import tern.protocol.SlowConsumerPolicy;

/**
 * How to subscribe.
 *
 * @param subject            the subject pattern ('*' one token, '>' the rest)
 * @param queueGroup         queue group name (a single token), or null for none
 * @param policy             what the server does when this subscriber cannot keep up
 * @param maxPendingMessages bound of the server's pending queue for this subscription and of the
 *                           client-side queue of a pull subscription; 0 = defaults
 *                           (server: its own; client: {@link #DEFAULT_CLIENT_PENDING_MESSAGES})
 */
public record SubscribeOptions(String subject, String queueGroup, SlowConsumerPolicy policy, int maxPendingMessages) {
    /** Client-side bound of a pull subscription's queue when maxPendingMessages is 0. */
    public static final int DEFAULT_CLIENT_PENDING_MESSAGES = 65_536;

    public SubscribeOptions {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(policy, "policy");
        if (queueGroup != null && queueGroup.isEmpty()) {
            queueGroup = null;
        }
        if (maxPendingMessages < 0) {
            throw new IllegalArgumentException("maxPendingMessages " + maxPendingMessages + " < 0");
        }
    }

    /** Options for a plain subscription to subject with the defaults (DROP_OLDEST, default bounds). */
    public static SubscribeOptions of(String subject) {
        return new SubscribeOptions(subject, null, SlowConsumerPolicy.DROP_OLDEST, 0);
    }

    public static Builder builder(String subject) {
        return new Builder(subject);
    }

    /** Builder for {@link SubscribeOptions}. */
    public static final class Builder {
        private final String subject;
        private String queueGroup;
        private SlowConsumerPolicy policy = SlowConsumerPolicy.DROP_OLDEST;
        private int maxPendingMessages;

        private Builder(String subject) {
            this.subject = subject;
        }

        public Builder queueGroup(String queueGroup) {
            this.queueGroup = queueGroup;
            return this;
        }

        public Builder policy(SlowConsumerPolicy policy) {
            this.policy = policy;
            return this;
        }

        public Builder maxPendingMessages(int maxPendingMessages) {
            this.maxPendingMessages = maxPendingMessages;
            return this;
        }

        public SubscribeOptions build() {
            return new SubscribeOptions(subject, queueGroup, policy, maxPendingMessages);
        }
    }
}
