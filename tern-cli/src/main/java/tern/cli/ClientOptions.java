package tern.cli;

import java.time.Duration;
import picocli.CommandLine.Option;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Credentials;
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

    @Option(names = "--user", paramLabel = "NAME",
            description = "Authenticate as this user (SCRAM-SHA-256). The password comes from --password, else the "
                    + "TERN_PASSWORD environment variable, else a prompt on the terminal.")
    String user;

    @Option(names = "--password", paramLabel = "PASSWORD",
            description = "Password for --user. For scripts only: other local users can see it in the process list "
                    + "and it stays in shell history; prefer TERN_PASSWORD or the prompt.")
    String password;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Authenticate with a bearer token (from `tern user token`) instead of --user. "
                    + "Use it only over TLS or on a trusted network.")
    String token;

    public ServerAddress server() {
        return server;
    }

    /** Connects with the given client name; a failure becomes a one-line CommandFailedException. */
    public Connection connect(String clientName, boolean reconnect) {
        return connect(server, clientName, reconnect, Duration.ofMillis(connectTimeoutMillis), credentials());
    }

    /** From --user/--password (TERN_PASSWORD, prompt) or --token; null when none is given. */
    Credentials credentials() {
        if (token != null) {
            if (user != null || password != null) {
                throw new IllegalArgumentException("give either --user (and a password) or --token, not both");
            }
            return Credentials.token(token);
        }
        if (user == null) {
            if (password != null) {
                throw new IllegalArgumentException("--password given without --user");
            }
            return null;
        }
        String pw = password;
        if (pw == null) {
            pw = System.getenv(Passwords.ENV_PASSWORD);
        }
        if (pw == null) {
            pw = Passwords.prompt("password for " + user, false);
        }
        return Credentials.password(user, pw);
    }

    static Connection connect(ServerAddress server, String clientName, boolean reconnect, Duration connectTimeout) {
        return connect(server, clientName, reconnect, connectTimeout, null);
    }

    static Connection connect(ServerAddress server, String clientName, boolean reconnect, Duration connectTimeout,
                              Credentials credentials) {
        ConnectOptions options = ConnectOptions.builder()
                .credentials(credentials)
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
