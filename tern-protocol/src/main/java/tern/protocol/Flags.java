package tern.protocol;

/** Bits of the flags byte at {@link Frame#FLAGS_OFFSET}. Bits a frame type does not define must be zero. */
public final class Flags {
    /** PUB, MSG: the body carries a reply subject after the subject. */
    public static final int REPLY = 0x01;
    /** PUB, MSG, SEND, DELIVER: the body carries a header block (after the subject and reply, or the queue). */
    public static final int HEADERS = 0x02;
    /** MSG: a status message to a requester: nobody was subscribed to the request's subject. */
    public static final int NO_RESPONDERS = 0x04;
    /** CONSUME: each delivery counts as acknowledged once it is written to the consumer's connection. */
    public static final int AUTO_ACK = 0x08;
    /** DELIVER: the message comes from a dead-letter queue; the body carries origin, reason and count. */
    public static final int DEAD_LETTER = 0x10;
    /** QBIND: remove the binding instead of adding it. */
    public static final int UNBIND = 0x20;
    /** ERROR: the server closes the connection after this frame. */
    public static final int CLOSING = 0x40;
    /**
     * PUB, SUB, UNSUB, CONSUME, CANCEL: the client asks for an OK (or ERROR) carrying this frame's id once
     * processed. SEND: the client asks for a CONFIRM (or ERROR) once the message is durable in its queue.
     */
    public static final int ACK = 0x80;

    /** Flags each frame type may set; anything else is {@link ErrorCode#MALFORMED_FRAME}. */
    public static int allowed(FrameType type) {
        return switch (type) {
            case PUB -> REPLY | HEADERS | ACK;
            case MSG -> REPLY | HEADERS | NO_RESPONDERS;
            case SUB, UNSUB, CANCEL -> ACK;
            case SEND -> HEADERS | ACK;
            case CONSUME -> AUTO_ACK | ACK;
            case DELIVER -> HEADERS | DEAD_LETTER;
            case QBIND -> UNBIND;
            case ERROR -> CLOSING;
            default -> 0;
        };
    }

    private Flags() {
    }
}
