package tern.client;

/** The connection is closed (or was closed while the operation waited), or is disconnected and cannot buffer more. */
public final class ConnectionClosedException extends TernException {
    private static final long serialVersionUID = 1L;

    public ConnectionClosedException(String message) {
        super(message);
    }
}
