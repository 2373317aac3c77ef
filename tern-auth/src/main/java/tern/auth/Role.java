package tern.auth;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Named bundles of rights, listed in a user's {@code roles=} field. A user's rights are the union
 * of their roles' expansions and their own lists; the user's deny entries still win over all of it.
 *
 * <table>
 *   <caption>Role expansions</caption>
 *   <tr><th>role</th><th>expansion</th></tr>
 *   <tr><td>admin</td><td>admin right; publish {@code >}; subscribe {@code >}; every queue operation on {@code >}</td></tr>
 *   <tr><td>producer</td><td>publish {@code >}; queue-send and queue-declare on {@code >}; private inboxes
 *       (subscribe to {@code _INBOX.<literal>...}, for request/reply)</td></tr>
 *   <tr><td>consumer</td><td>subscribe {@code >}; queue-consume on {@code >}; publish {@code _INBOX.>} (to answer
 *       requests)</td></tr>
 * </table>
 */
public enum Role {
    ADMIN, PRODUCER, CONSUMER;

    /** The name used in the users file. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The role for a users-file name.
     *
     * @throws IllegalArgumentException for an unknown role
     */
    public static Role parse(String key) {
        for (Role r : values()) {
            if (r.key().equals(key)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown role '" + key + "' (admin, producer, consumer)");
    }

    boolean admin() {
        return this == ADMIN;
    }

    boolean privateInboxes() {
        return this == PRODUCER;
    }

    Rules publish() {
        return switch (this) {
            case ADMIN, PRODUCER -> all();
            case CONSUMER -> new Rules(List.of(SubjectPattern.parse("_INBOX.>")), List.of());
        };
    }

    Rules subscribe() {
        return this == PRODUCER ? Rules.NONE : all();
    }

    Map<QueueOperation, Rules> queues() {
        Map<QueueOperation, Rules> m = new EnumMap<>(QueueOperation.class);
        switch (this) {
            case ADMIN -> {
                for (QueueOperation op : QueueOperation.values()) {
                    m.put(op, all());
                }
            }
            case PRODUCER -> {
                m.put(QueueOperation.SEND, all());
                m.put(QueueOperation.DECLARE, all());
            }
            case CONSUMER -> m.put(QueueOperation.CONSUME, all());
        }
        return m;
    }

    private static Rules all() {
        return new Rules(List.of(SubjectPattern.parse(">")), List.of());
    }
}
