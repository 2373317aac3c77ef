package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.auth.Role;
import tern.auth.UserStore;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.broker.tls.TlsConfig;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.client.Tern;
import tern.client.TernException;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.testkit.BrokerLogGuard;
import tern.testkit.RawConnection;

/** TLS on the client port against the real client, raw sockets and JDK SSLSockets (docs/security.md section 8). */
@Timeout(120)
class TlsIT {
    private static final Duration WAIT = Duration.ofSeconds(10);

    static {
        // Let this JVM's client even try TLS 1.0 and 1.1 (the JDK disables them by default), so the
        // old-protocol test shows that the broker's own protocol list refuses them. Set before any TLS
        // use in the JVM: the JDK reads the property once.
        Security.setProperty("jdk.tls.disabledAlgorithms", "SSLv3, RC4, DES, MD5withRSA, DH keySize < 1024, "
                + "EC keySize < 224, 3DES_EDE_CBC, anon, NULL");
    }

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static Path dir;
    static TlsCertificates certs;
    static TlsCertificates.Authority ca;
    static TlsCertificates.Issued server;
    static TlsCertificates.Issued alice;
    static TlsCertificates.Issued bob;
    static TlsCertificates.Issued wrongHost;
    static Path usersFile;

    @BeforeAll
    static void makeCertificates() throws IOException {
        assumeThat(TlsCertificates.opensslAvailable()).as("openssl on PATH").isTrue();
        certs = new TlsCertificates(dir);
        ca = certs.authority("ca", "Tern Test CA");
        server = certs.issue(ca, "server", "localhost", "ec", TlsCertificates.NOT_BEFORE, TlsCertificates.NOT_AFTER,
                TlsCertificates.serverExtensions("DNS:localhost, IP:127.0.0.1"));
        wrongHost = certs.issue(ca, "wrong-host", "other.example", "ec", TlsCertificates.NOT_BEFORE,
                TlsCertificates.NOT_AFTER, TlsCertificates.serverExtensions("DNS:other.example"));
        alice = certs.issue(ca, "alice", "alice", "ec", TlsCertificates.NOT_BEFORE, TlsCertificates.NOT_AFTER,
                TlsCertificates.CLIENT_EXTENSIONS);
        bob = certs.issue(ca, "bob", "bob", "ec", TlsCertificates.NOT_BEFORE, TlsCertificates.NOT_AFTER,
                TlsCertificates.CLIENT_EXTENSIONS);
        usersFile = dir.resolve("users");
        UserStore.empty().add("alice", "not-used-password", Set.of(Role.ADMIN)).save(usersFile);
    }

    private static TernBroker tlsBroker(TlsConfig tls) {
        return TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir).withTls(tls));
    }

    private static ConnectOptions.Builder client(int port) {
        return ConnectOptions.builder().host("127.0.0.1").port(port).reconnect(false).connectTimeout(WAIT);
    }

    @Test
    void publishSubscribeOverTls() throws Exception {
        try (TernBroker broker = tlsBroker(TlsConfig.of(server.cert(), server.key()));
             Connection sub = Tern.connect(client(broker.port()).tlsCaFile(ca.cert()).build());
             Connection pub = Tern.connect(client(broker.port()).host("localhost").tlsCaFile(ca.cert()).build())) {
            Subscription s = sub.subscribe("orders.*");
            sub.flush();
            for (int i = 0; i < 100; i++) {
                pub.publish("orders.eu", ("m" + i).getBytes(UTF_8));
            }
            pub.flush();
            for (int i = 0; i < 100; i++) {
                assertThat(new String(s.next(WAIT).payload(), UTF_8)).isEqualTo("m" + i);
            }
            byte[] big = new byte[200_000];
            big[199_999] = 7;
            pub.publish("orders.big", big);
            assertThat(s.next(WAIT).payload()).isEqualTo(big);
        }
    }

    @Test
    void tlsOptionalPortServesTlsAndPlaintext() throws Exception {
        try (TernBroker broker = tlsBroker(TlsConfig.of(server.cert(), server.key()).withRequired(false));
             Connection tls = Tern.connect(client(broker.port()).tlsCaFile(ca.cert()).build());
             Connection plain = Tern.connect(client(broker.port()).build())) {
            Subscription s = tls.subscribe("a");
            tls.flush();
            plain.publish("a", "x".getBytes(UTF_8));
            assertThat(s.next(WAIT).payload()).isEqualTo("x".getBytes(UTF_8));
        }
    }

    @Test
    void oldProtocolsAreRefusedAndCurrentOnesWork() throws Exception {
        try (TernBroker broker = tlsBroker(TlsConfig.of(server.cert(), server.key()))) {
            Map<String, Integer> handshakes = new LinkedHashMap<>();
            List<String> failures = new ArrayList<>();
            for (String protocol : List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")) {
                int ok = 0;
                for (int i = 0; i < 10; i++) {
                    try (SSLSocket s = sslSocket(broker.port(), protocol)) {
                        s.startHandshake();
                        assertThat(s.getSession().getProtocol()).isEqualTo(protocol);
                        ok++;
                    } catch (SSLException e) {
                        failures.add(protocol + ": " + e.getMessage());
                    }
                }
                handshakes.put(protocol, ok);
            }
            System.out.println("TlsIT handshakes by protocol (10 attempts each): " + handshakes
                    + "; first failures: " + failures.subList(0, Math.min(2, failures.size())));
            assertThat(handshakes).containsEntry("TLSv1", 0).containsEntry("TLSv1.1", 0)
                    .containsEntry("TLSv1.2", 10).containsEntry("TLSv1.3", 10);
        }
    }

    private static SSLSocket sslSocket(int port, String protocol) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (var in = Files.newInputStream(ca.cert())) {
            Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(in);
            trust.setCertificateEntry("ca", c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(5_000);
        s.setEnabledProtocols(new String[]{protocol});
        s.setEnabledCipherSuites(s.getSupportedCipherSuites());
        return s;
    }

    @Test
    void mutualTlsLogsInTheUserNamedByTheCertificate() throws Exception {
        TlsConfig tls = TlsConfig.of(server.cert(), server.key()).withClientAuth(ca.cert(), TlsConfig.ClientAuth.REQUIRE);
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir).withTls(tls)
                .withUsersFile(usersFile))) {
            try (Connection c = Tern.connect(client(broker.port()).tlsCaFile(ca.cert())
                    .tlsClientCert(alice.cert()).tlsClientKey(alice.key()).build())) {
                Subscription s = c.subscribe("x");
                c.flush();
                c.publish("x", "hi".getBytes(UTF_8));
                assertThat(s.next(WAIT).payload()).isEqualTo("hi".getBytes(UTF_8));
            }
            // bob's certificate is valid, but no user is called bob: authentication is still required.
            assertThatThrownBy(() -> Tern.connect(client(broker.port()).tlsCaFile(ca.cert())
                    .tlsClientCert(bob.cert()).tlsClientKey(bob.key()).build()))
                    .isInstanceOfSatisfying(ServerException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_REQUIRED));
        }
    }

    /** Twenty ways a client certificate can be wrong; each must be refused under tls_client_auth=require. */
    @Test
    void badClientCertificatesAreRefused() throws Exception {
        TlsCertificates.Authority other = certs.authority("other-ca", "Other CA");
        TlsCertificates.Authority impostor = certs.authority("impostor-ca", "Tern Test CA");
        String nb = TlsCertificates.NOT_BEFORE;
        String na = TlsCertificates.NOT_AFTER;
        String client = TlsCertificates.CLIENT_EXTENSIONS;
        Map<String, TlsCertificates.Issued> bad = new LinkedHashMap<>();
        bad.put("self-signed EC", certs.selfSigned("b1", "alice", "ec", client));
        bad.put("self-signed RSA", certs.selfSigned("b2", "alice", "rsa", client));
        bad.put("self-signed CA named like the real CA", certs.selfSigned("b3", "Tern Test CA", "ec",
                "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, digitalSignature"));
        bad.put("signed by another CA", certs.issue(other, "b4", "alice", "ec", nb, na, client));
        bad.put("signed by another CA, RSA key", certs.issue(other, "b5", "alice", "rsa", nb, na, client));
        bad.put("signed by an impostor CA with the real CA's name", certs.issue(impostor, "b6", "alice", "ec", nb, na, client));
        bad.put("expired in 2001", certs.issue(ca, "b7", "alice", "ec", nb, "20010101000000Z", client));
        bad.put("expired in 2001, RSA key", certs.issue(ca, "b8", "alice", "rsa", nb, "20010101000000Z", client));
        bad.put("expired in 2021", certs.issue(ca, "b9", "alice", "ec", "20200101000000Z", "20210101000000Z", client));
        bad.put("not valid before 2100", certs.issue(ca, "b10", "alice", "ec", "21000101000000Z", na, client));
        bad.put("not valid before 2100, RSA key", certs.issue(ca, "b11", "alice", "rsa", "21000101000000Z", na, client));
        bad.put("extended key usage serverAuth only", certs.issue(ca, "b12", "alice", "ec", nb, na,
                "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth"));
        bad.put("extended key usage codeSigning only", certs.issue(ca, "b13", "alice", "ec", nb, na,
                "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = codeSigning"));
        bad.put("key usage keyCertSign only", certs.issue(ca, "b14", "alice", "ec", nb, na,
                "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, keyCertSign\nextendedKeyUsage = clientAuth"));
        bad.put("key usage keyEncipherment only", certs.issue(ca, "b15", "alice", "rsa", nb, na,
                "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, keyEncipherment\nextendedKeyUsage = clientAuth"));
        TlsCertificates.Authority leafAsCa = new TlsCertificates.Authority("bob-as-ca", bob.cert(), bob.key(),
                TlsCertificates.state(dir.resolve("bob-as-ca-state")));
        TlsCertificates.Issued b16 = certs.issue(leafAsCa, "b16", "alice", "ec", nb, na, client);
        bad.put("issued by a leaf (CA:FALSE) of the real CA",
                new TlsCertificates.Issued(certs.chain("b16-chain.pem", b16.cert(), bob.cert()), b16.key()));
        TlsCertificates.Issued noSign = certs.issue(ca, "no-sign-ca", "No keyCertSign CA", "ec", nb, na,
                "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, digitalSignature");
        TlsCertificates.Issued b17 = certs.issue(new TlsCertificates.Authority("no-sign-ca", noSign.cert(), noSign.key(),
                TlsCertificates.state(dir.resolve("no-sign-ca-state"))), "b17", "alice", "ec", nb, na, client);
        bad.put("issued by an intermediate without keyCertSign",
                new TlsCertificates.Issued(certs.chain("b17-chain.pem", b17.cert(), noSign.cert()), b17.key()));
        TlsCertificates.Issued oldCa = certs.issue(ca, "expired-ca", "Expired intermediate", "ec", nb, "20010101000000Z",
                "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign");
        TlsCertificates.Issued b18 = certs.issue(new TlsCertificates.Authority("expired-ca", oldCa.cert(), oldCa.key(),
                TlsCertificates.state(dir.resolve("expired-ca-state"))), "b18", "alice", "ec", nb, na, client);
        bad.put("issued by an expired intermediate",
                new TlsCertificates.Issued(certs.chain("b18-chain.pem", b18.cert(), oldCa.cert()), b18.key()));
        bad.put("the real alice certificate with another key", new TlsCertificates.Issued(alice.cert(), bob.key()));
        bad.put("no certificate at all", null);
        assertThat(bad).hasSize(20);

        TlsConfig tls = TlsConfig.of(server.cert(), server.key()).withClientAuth(ca.cert(), TlsConfig.ClientAuth.REQUIRE);
        try (TernBroker broker = tlsBroker(tls)) {
            try (Connection good = Tern.connect(client(broker.port()).tlsCaFile(ca.cert())
                    .tlsClientCert(alice.cert()).tlsClientKey(alice.key()).build())) {
                good.flush();
            }
            int refused = 0;
            List<String> accepted = new ArrayList<>();
            for (Map.Entry<String, TlsCertificates.Issued> e : bad.entrySet()) {
                ConnectOptions.Builder b = client(broker.port()).tlsCaFile(ca.cert());
                if (e.getValue() != null) {
                    b.tlsClientCert(e.getValue().cert()).tlsClientKey(e.getValue().key());
                }
                long start = System.nanoTime();
                try (Connection c = Tern.connect(b.build())) {
                    c.flush();
                    accepted.add(e.getKey());
                } catch (TernException refusal) {
                    refused++;
                    System.out.printf("TlsIT refused %-50s in %4d ms: %s%n", e.getKey(),
                            (System.nanoTime() - start) / 1_000_000, refusal.getMessage());
                }
            }
            System.out.println("TlsIT bad client certificates refused: " + refused + " of " + bad.size());
            assertThat(accepted).as("bad certificates accepted").isEmpty();
            assertThat(refused).isEqualTo(20);
        }
    }

    @Test
    void plaintextClientOnTlsPortIsToldTlsIsRequired() throws Exception {
        try (TernBroker broker = tlsBroker(TlsConfig.of(server.cert(), server.key()))) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> Tern.connect(client(broker.port()).build()))
                    .isInstanceOfSatisfying(ServerException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.TLS_REQUIRED);
                        assertThat(e.getMessage()).contains("only TLS");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            try (RawConnection raw = RawConnection.open("127.0.0.1", broker.port())) {
                raw.sendPreface();
                Frame f = raw.receive(WAIT);
                assertThat(f).isInstanceOfSatisfying(Frame.Error.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.TLS_REQUIRED.code());
                    assertThat(e.closing()).isTrue();
                });
                assertThat(raw.awaitClosed(Duration.ofSeconds(2))).isTrue();
            }
        }
    }

    @Test
    void tlsClientOnPlaintextPortFailsFast() {
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir))) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> Tern.connect(client(broker.port()).tlsCaFile(ca.cert()).build()))
                    .isInstanceOf(TernException.class)
                    .hasMessageContaining("closed the connection during the TLS handshake");
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            System.out.println("TlsIT TLS client on a plaintext port failed after " + took.toMillis() + " ms");
            assertThat(took).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void hostnameVerificationRefusesACertificateForAnotherHost() throws Exception {
        try (TernBroker broker = tlsBroker(TlsConfig.of(wrongHost.cert(), wrongHost.key()))) {
            assertThatThrownBy(() -> Tern.connect(client(broker.port()).tlsCaFile(ca.cert()).build()))
                    .isInstanceOf(TernException.class)
                    .hasMessageContaining("does not name host '127.0.0.1'");
            assertThatThrownBy(() -> Tern.connect(client(broker.port()).host("localhost").tlsCaFile(ca.cert()).build()))
                    .isInstanceOf(TernException.class)
                    .hasMessageContaining("does not name host 'localhost'");
            // Opting out (unsafe) connects: the certificate is still checked against the CA.
            try (Connection c = Tern.connect(client(broker.port()).tlsCaFile(ca.cert()).tlsVerifyHostname(false).build())) {
                c.flush();
            }
        }
    }

    /** bin/tern-dev-certs makes a CA, server and client certificate that work for TLS and mTLS as documented. */
    @Test
    void devCertsScriptMakesWorkingCertificates() throws Exception {
        Path script = Path.of("..", "bin", "tern-dev-certs").toAbsolutePath().normalize();
        assumeThat(Files.isExecutable(script)).as(script + " (run from tern-it)").isTrue();
        Path out = dir.resolve("dev-certs");
        TlsCertificates.run(script.toString(), out.toString(), "alice", "30");
        TlsConfig tls = TlsConfig.of(out.resolve("server.pem"), out.resolve("server.key"))
                .withClientAuth(out.resolve("ca.pem"), TlsConfig.ClientAuth.REQUIRE);
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir).withTls(tls)
                .withUsersFile(usersFile));
             Connection c = Tern.connect(client(broker.port()).host("localhost").tlsCaFile(out.resolve("ca.pem"))
                     .tlsClientCert(out.resolve("client.pem")).tlsClientKey(out.resolve("client.key")).build())) {
            Subscription s = c.subscribe("dev");
            c.flush();
            c.publish("dev", "ok".getBytes(UTF_8));
            assertThat(s.next(WAIT).payload()).isEqualTo("ok".getBytes(UTF_8));
        }
    }

    @Test
    void untrustedServerCertificateIsRefused() throws Exception {
        TlsCertificates.Authority other = certs.authority("other-server-ca", "Other Server CA");
        try (TernBroker broker = tlsBroker(TlsConfig.of(server.cert(), server.key()))) {
            assertThatThrownBy(() -> Tern.connect(client(broker.port()).tlsCaFile(other.cert()).build()))
                    .isInstanceOf(TernException.class)
                    .hasMessageContaining("not trusted");
        }
    }
}
