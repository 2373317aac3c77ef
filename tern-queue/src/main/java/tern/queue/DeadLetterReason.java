package tern.queue;

/** Why a message went to a dead-letter queue. The byte is stored in the message log; never renumber. */
public enum DeadLetterReason {
    /** Its message TTL passed before it was acknowledged. */
    EXPIRED(1),
    /** A consumer rejected it. */
    REJECTED(2),
    /** It was delivered {@link QueueOptions#maxDeliveries()} times without an ack. */
    MAX_DELIVERIES(3);

    private final int code;

    DeadLetterReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    static DeadLetterReason of(int code) {
        for (DeadLetterReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown dead-letter reason " + code);
    }
}
