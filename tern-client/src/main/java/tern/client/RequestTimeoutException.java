package tern.client;

/**
 * The server's answer did not arrive within the caller's timeout: a request's reply, a flush's PONG or
 * a subscribe's OK. Whatever was pending for it has been removed.
 */
public final class RequestTimeoutException extends TernException {
    private static final long serialVersionUID = 1L;

    public RequestTimeoutException(String message) {
        super(message);
    }
}
