package tern.queue;

import tern.protocol.ErrorCode;

/** A queue operation was refused; {@link #code()} is the stable error the broker sends on the wire. */
public final class QueueException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public QueueException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public QueueException(ErrorCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = code;
    }

    /** The stable code (4xx). */
    public ErrorCode code() {
        return code;
    }
}
