package tern.cli;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Credentials;
import tern.client.Tern;
import tern.client.TernException;
import tern.client.TlsOptions;

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

    @Option(names = "--tls", description = "Connect over TLS (TLSv1.3/1.2). Implied by the other --tls-... options.")
    boolean tls;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "PEM CA certificate that signed the broker's certificate (default: the JVM's trust store).")
    Path tlsCa;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM client certificate for a broker that asks for one (mTLS); needs --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-insecure-skip-hostname-check", hidden = true,
            description = "UNSAFE: accept a broker certificate that does not name the host connected to.")
    boolean tlsSkipHostname;

    public ServerAddress server() {
        return server;
    }

    /** Connects with the given client name; a failure becomes a one-line CommandFailedException. */
    public Connection connect(String clientName, boolean reconnect) {
        return connect(server, clientName, reconnect, Duration.ofMillis(connectTimeoutMillis), credentials(), tls());
    }

    /** From --tls, --tls-ca, --tls-cert, --tls-key; null for plaintext. */
    TlsOptions tls() {
        if (!tls && tlsCa == null && tlsCert == null && tlsKey == null) {
            return null;
        }
        return new TlsOptions(tlsCa, tlsCert, tlsKey, !tlsSkipHostname);
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
        return connect(server, clientName, reconnect, connectTimeout, credentials, null);
    }

    static Connection connect(ServerAddress server, String clientName, boolean reconnect, Duration connectTimeout,
                              Credentials credentials, TlsOptions tls) {
        ConnectOptions.Builder builder = ConnectOptions.builder();
        if (tls != null) {
            builder.tls(true).tlsCaFile(tls.caFile()).tlsVerifyHostname(tls.verifyHostname());
            if (tls.clientCertFile() != null) {
                builder.tlsClientCert(tls.clientCertFile()).tlsClientKey(tls.clientKeyFile());
            }
        }
        ConnectOptions options = builder
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
