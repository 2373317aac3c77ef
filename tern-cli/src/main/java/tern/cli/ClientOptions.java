package tern.cli;

import java.time.Duration;
import picocli.CommandLine.Option;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Tern;
import tern.client.TernException;

/** Mixed into every client command: where the broker is, and how to connect to it. */
public final class ClientOptions {
    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = ServerAddress.DEFAULT,
            converter = ServerAddress.Converter.class,
            description = "Broker address (default: ${DEFAULT-VALUE}).")
    ServerAddress server;

    @Option(names = "--connect-timeout", paramLabel = "MS", defaultValue = "5000",
            description = "Connect timeout in milliseconds (default: ${DEFAULT-VALUE}).")
    long connectTimeoutMillis;

    public ServerAddress server() {
        return server;
    }

    /** Connects with the given client name; a failure becomes a one-line CommandFailedException. */
    public Connection connect(String clientName, boolean reconnect) {
        return connect(server, clientName, reconnect, Duration.ofMillis(connectTimeoutMillis));
    }

    static Connection connect(ServerAddress server, String clientName, boolean reconnect, Duration connectTimeout) {
        ConnectOptions options = ConnectOptions.builder()
                .host(server.host())
                .port(server.port())
                .name(clientName)
                .connectTimeout(connectTimeout)
                .reconnect(reconnect)
                .build();
        try {
            return Tern.connect(options);
        } catch (TernException e) {
            throw new CommandFailedException("cannot connect to " + server + ": " + Failures.reason(e), e);
        }
    }
}
