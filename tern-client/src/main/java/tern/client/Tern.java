package tern.client;

/**
 * Entry point: opens {@link Connection}s.
 *
 * <pre>{@code
 * try (Connection c = Tern.connect("127.0.0.1", port)) {
 *     Subscription s = c.subscribe("greetings.>");
 *     c.publish("greetings.world", "hello".getBytes(UTF_8));
 *     Message m = s.next(Duration.ofSeconds(1));
 * }
 * }</pre>
 */
public final class Tern {
    /** Connects with default options; throws {@link TernException} (or a {@link ServerException}) on failure. */
    public static Connection connect(String host, int port) {
        return connect(ConnectOptions.builder().host(host).port(port).build());
    }

    /** Connects and completes the handshake within options.connectTimeout(). */
    public static Connection connect(ConnectOptions options) {
        return TernConnection.open(options);
    }

    private Tern() {
    }
}
