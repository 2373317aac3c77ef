package tern.auth;

/** What a user may do to a queue; each has its own allow/deny list of queue-name patterns. */
public enum QueueOperation {
    /** Create a queue (idempotent declare). Users-file key {@code queue-declare}. */
    DECLARE("queue-declare"),
    /** Delete a queue and its messages. Users-file key {@code queue-delete}. */
    DELETE("queue-delete"),
    /** Append messages to a queue. Users-file key {@code queue-send}. */
    SEND("queue-send"),
    /** Receive and acknowledge messages from a queue. Users-file key {@code queue-consume}. */
    CONSUME("queue-consume");

    private final String key;

    QueueOperation(String key) {
        this.key = key;
    }

    /** The users-file key holding this operation's list. */
    public String key() {
        return key;
    }
}
