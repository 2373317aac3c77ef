package tern.client;

/** Where a {@link Connection} is in its life. */
public enum ConnectionStatus {
    CONNECTING, CONNECTED, RECONNECTING, DRAINING, CLOSED
}
