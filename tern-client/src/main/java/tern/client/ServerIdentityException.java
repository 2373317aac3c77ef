package tern.client;

/**
 * The server could not prove that it knows the user's credential (the SCRAM-SHA-256 server signature
 * in WELCOME is missing or wrong, or its challenge is malformed): the connection was refused and
 * closed before use. A genuine broker never causes this; suspect a misdirected or impersonating
 * server. Not retried by reconnect.
 */
public class ServerIdentityException extends TernException {
    private static final long serialVersionUID = 1L;

    public ServerIdentityException(String message, Throwable cause) {
        super(message, cause);
    }
}
