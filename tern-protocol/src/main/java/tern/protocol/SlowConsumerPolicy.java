package tern.protocol;

/** What the server does with a subscription whose connection cannot keep up (SUB field, one byte). */
public enum SlowConsumerPolicy {
    /** Drop the oldest pending messages of this subscription, count them, and report the count in DROPPED. */
    DROP_OLDEST(0),
    /** Send ERROR SLOW_CONSUMER and close the connection. */
    DISCONNECT(1);

    private final int code;

    SlowConsumerPolicy(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The policy for a wire byte; throws MALFORMED_FRAME for an unknown value. */
    public static SlowConsumerPolicy of(int code) {
        return switch (code) {
            case 0 -> DROP_OLDEST;
            case 1 -> DISCONNECT;
            default -> throw Codec.malformed("slow-consumer policy " + code + " not 0 or 1");
        };
    }
}
