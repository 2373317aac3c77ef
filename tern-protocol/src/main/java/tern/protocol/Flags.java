package tern.protocol;

/** Bits of the flags byte at {@link Frame#FLAGS_OFFSET}. Bits a frame type does not define must be zero. */
public final class Flags {
    /** PUB, MSG: the body carries a reply subject after the subject. */
    public static final int REPLY = 0x01;
    /** PUB, MSG: the body carries a header block after the subject (and reply). */
    public static final int HEADERS = 0x02;
    /** MSG: a status message to a requester: nobody was subscribed to the request's subject. */
    public static final int NO_RESPONDERS = 0x04;
    /** ERROR: the server closes the connection after this frame. */
    public static final int CLOSING = 0x40;
    /** PUB, SUB, UNSUB: the client asks for an OK (or ERROR) carrying this frame's id once processed. */
    public static final int ACK = 0x80;

    /** Flags each frame type may set; anything else is {@link ErrorCode#MALFORMED_FRAME}. */
    public static int allowed(FrameType type) {
        return switch (type) {
            case PUB -> REPLY | HEADERS | ACK;
            case MSG -> REPLY | HEADERS | NO_RESPONDERS;
            case SUB, UNSUB -> ACK;
            case ERROR -> CLOSING;
            default -> 0;
        };
    }

    private Flags() {
    }
}
