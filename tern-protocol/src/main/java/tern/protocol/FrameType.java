package tern.protocol;

/**
 * Frame types: the byte at {@link Frame#TYPE_OFFSET}. Codes are stable; a receiver answers an
 * unknown code, or a code sent in the wrong direction, with {@link ErrorCode#UNKNOWN_FRAME_TYPE}.
 */
public enum FrameType {
    HELLO(0x01, Direction.CLIENT),
    WELCOME(0x02, Direction.SERVER),
    AUTH(0x03, Direction.CLIENT),
    CHALLENGE(0x04, Direction.SERVER),
    PING(0x05, Direction.BOTH),
    PONG(0x06, Direction.BOTH),
    GOAWAY(0x07, Direction.SERVER),
    ERROR(0x08, Direction.SERVER),
    OK(0x09, Direction.SERVER),
    PUB(0x10, Direction.CLIENT),
    SUB(0x11, Direction.CLIENT),
    UNSUB(0x12, Direction.CLIENT),
    MSG(0x13, Direction.SERVER),
    DROPPED(0x14, Direction.SERVER),
    QDECLARE(0x20, Direction.CLIENT),
    QDELETE(0x21, Direction.CLIENT),
    QPURGE(0x22, Direction.CLIENT),
    QLIST(0x23, Direction.CLIENT),
    QINFO(0x24, Direction.SERVER),
    QREDRIVE(0x25, Direction.CLIENT),
    SEND(0x26, Direction.CLIENT),
    CONFIRM(0x27, Direction.SERVER),
    CONSUME(0x28, Direction.CLIENT),
    CANCEL(0x29, Direction.CLIENT),
    DELIVER(0x2A, Direction.SERVER),
    ACK(0x2B, Direction.CLIENT),
    NACK(0x2C, Direction.CLIENT),
    REJECT(0x2D, Direction.CLIENT),
    COUNT(0x2E, Direction.SERVER),
    QBIND(0x2F, Direction.CLIENT);

    /** Who may send a frame type. */
    public enum Direction { CLIENT, SERVER, BOTH }

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final Direction direction;

    FrameType(int code, Direction direction) {
        this.code = code;
        this.direction = direction;
    }

    /** The byte on the wire, 0..255. */
    public int code() {
        return code;
    }

    public Direction direction() {
        return direction;
    }

    public boolean sentByClient() {
        return direction != Direction.SERVER;
    }

    public boolean sentByServer() {
        return direction != Direction.CLIENT;
    }

    /** The type for a wire byte, or null when undefined. */
    public static FrameType of(int code) {
        return BY_CODE[code & 0xFF];
    }
}
