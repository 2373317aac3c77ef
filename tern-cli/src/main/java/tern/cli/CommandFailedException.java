package tern.cli;

/**
 * An operation that failed for a reason the user can act on (timeout, no responders, connection
 * refused). The CLI prints its message on one line and exits 1; the cause's stack trace only with
 * --verbose.
 */
public final class CommandFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommandFailedException(String message) {
        super(message);
    }

    public CommandFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
