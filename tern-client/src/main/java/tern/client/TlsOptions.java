package tern.client;

import java.nio.file.Path;

/**
 * TLS settings of a connection (set through {@link ConnectOptions.Builder#tls(boolean)} and its
 * {@code tls...} siblings). Protocols are TLSv1.3 and TLSv1.2 only, from the JDK's provider.
 *
 * @param caFile         PEM CA certificate(s) the server's certificate must chain to; null uses the
 *                       JDK's default trust store
 * @param clientCertFile PEM certificate chain presented to a server that asks for one (mTLS), or null
 * @param clientKeyFile  PEM PKCS#8 (unencrypted) private key of clientCertFile, or null
 * @param verifyHostname check that the server certificate names the host connected to (DNS or IP
 *                       subject alternative name). On by default; turning it off is <b>unsafe</b>:
 *                       any server holding a certificate from the same CA can then impersonate this one
 */
public record TlsOptions(Path caFile, Path clientCertFile, Path clientKeyFile, boolean verifyHostname) {
    public TlsOptions {
        if ((clientCertFile == null) != (clientKeyFile == null)) {
            throw new IllegalArgumentException("a TLS client certificate needs its key and a key its certificate: cert "
                    + clientCertFile + ", key " + clientKeyFile);
        }
    }

    /** TLS with the JDK's trust store and hostname verification, no client certificate. */
    public static TlsOptions defaults() {
        return new TlsOptions(null, null, null, true);
    }
}
