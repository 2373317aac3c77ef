package tern.broker.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * What TLS verified about the peer of a connection. For the handshake (mTLS): the client
 * certificate's subject CN names the user when the users file has one of that name
 * (docs/security.md section 8). Every method may be called from the channel's event loop once the
 * first plaintext byte has arrived (the TLS handshake is complete by then).
 */
public final class TlsPeer {
    private TlsPeer() {
    }

    /** True when the connection runs over TLS. */
    public static boolean isTls(Channel channel) {
        return channel.pipeline().get(SslHandler.class) != null;
    }

    /** The client certificate the TLS handshake verified against tls_client_ca, if any. */
    public static Optional<X509Certificate> certificate(Channel channel) {
        SslHandler h = channel.pipeline().get(SslHandler.class);
        if (h == null || !h.handshakeFuture().isSuccess()) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = h.engine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? Optional.of(x) : Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    /** The verified client certificate's subject common name (the last CN if several), if any. */
    public static Optional<String> commonName(Channel channel) {
        return certificate(channel).flatMap(c -> commonName(c.getSubjectX500Principal().getName()));
    }

    /** The CN of an RFC 2253 distinguished name, if it has one. */
    public static Optional<String> commonName(String distinguishedName) {
        try {
            String cn = null;
            for (Rdn rdn : new LdapName(distinguishedName).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = String.valueOf(rdn.getValue());
                }
            }
            return Optional.ofNullable(cn);
        } catch (InvalidNameException e) {
            return Optional.empty();
        }
    }
}
