package tern.broker.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.util.List;
import javax.net.ssl.SSLException;

/** Builds the server's Netty {@link SslContext}: JDK provider, TLSv1.3 and TLSv1.2 only, AEAD suites only. */
public final class TlsContexts {
    /** The only protocols the server enables. TLS 1.1 and older are never negotiated. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /**
     * Cipher suites in preference order: the TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or
     * ChaCha20-Poly1305 (forward secrecy, AEAD). No CBC, no RSA key exchange, no SHA-1 MACs.
     */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsContexts() {
    }

    /** Reads the PEM files now, so a bad file fails the broker's start with the file named. */
    public static SslContext server(TlsConfig config) {
        try {
            SslContextBuilder b = SslContextBuilder.forServer(config.certFile().toFile(), config.keyFile().toFile())
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .ciphers(CIPHER_SUITES, SupportedCipherSuiteFilter.INSTANCE)
                    .clientAuth(switch (config.clientAuth()) {
                        case NONE -> ClientAuth.NONE;
                        case WANT -> ClientAuth.OPTIONAL;
                        case REQUIRE -> ClientAuth.REQUIRE;
                    });
            if (config.clientCaFile() != null) {
                b.trustManager(config.clientCaFile().toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot load TLS certificate " + config.certFile() + " / key "
                    + config.keyFile() + (config.clientCaFile() == null ? "" : " / client CA " + config.clientCaFile())
                    + ": " + e.getMessage(), e);
        }
    }
}
