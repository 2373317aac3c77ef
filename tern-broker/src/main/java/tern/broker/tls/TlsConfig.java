package tern.broker.tls;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * TLS on the client port (docs/security.md section 8). Protocols are TLSv1.3 and TLSv1.2 only.
 *
 * @param certFile     PEM certificate chain, the server's certificate first
 * @param keyFile      PEM PKCS#8 private key of the first certificate (unencrypted)
 * @param clientCaFile PEM CA certificates that client certificates must chain to, or null
 * @param clientAuth   whether a client certificate is asked for ({@link ClientAuth#NONE} without a CA file)
 * @param required     true: only TLS is accepted and a plaintext client gets ERROR 304 TLS_REQUIRED;
 *                     false: TLS and plaintext share the port (told apart by the first byte)
 */
public record TlsConfig(Path certFile, Path keyFile, Path clientCaFile, ClientAuth clientAuth, boolean required) {
    /** Whether the server asks for a client certificate (mTLS). */
    public enum ClientAuth {
        /** No client certificate is asked for. */
        NONE,
        /** Asked for; a client without one still connects, a client with a bad one is refused. */
        WANT,
        /** A client without a certificate chaining to the client CA is refused during the TLS handshake. */
        REQUIRE;

        /** none | want | require (any case). */
        public static ClientAuth parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tls_client_auth '" + s + "' is not one of none, want, require");
            }
        }
    }

    public TlsConfig {
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(clientAuth, "clientAuth");
        if (clientAuth != ClientAuth.NONE && clientCaFile == null) {
            throw new IllegalArgumentException("tls_client_auth " + clientAuth.name().toLowerCase(Locale.ROOT)
                    + " needs tls_client_ca (the CA that signs client certificates)");
        }
    }

    /** TLS required, no client certificates. */
    public static TlsConfig of(Path certFile, Path keyFile) {
        return new TlsConfig(certFile, keyFile, null, ClientAuth.NONE, true);
    }

    public TlsConfig withClientAuth(Path caFile, ClientAuth auth) {
        return new TlsConfig(certFile, keyFile, caFile, auth, required);
    }

    public TlsConfig withRequired(boolean v) {
        return new TlsConfig(certFile, keyFile, clientCaFile, clientAuth, v);
    }
}
