package tern.client;

/** Lifecycle events reported to {@link ConnectionListener#onEvent}. */
public enum ConnectionEvent {
    /** The first handshake completed. */
    CONNECTED,
    /** The socket was lost (or the server sent GOAWAY); the client reconnects if enabled. */
    DISCONNECTED,
    /** A reconnect completed; every active subscription was re-created with its sid. */
    RECONNECTED,
    /** The connection is closed for good (close, drain, reconnects exhausted, or a non-retriable error). */
    CLOSED
}
