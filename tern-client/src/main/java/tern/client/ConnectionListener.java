package tern.client;

/**
 * Receives connection events and asynchronous errors. Called on the connection's dispatch thread
 * (the same thread as push handlers, in order with them), except the final {@link ConnectionEvent#CLOSED},
 * which is called on the thread that closed the connection. Must not block for long.
 */
public interface ConnectionListener {
    void onEvent(ConnectionEvent event, Connection connection);

    /** An error nobody was waiting for: a server ERROR frame, a failed handler, a lost connection's cause. */
    default void onError(TernException error) {
    }
}
