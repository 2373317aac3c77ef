package tern.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made at test time with the openssl command line (the recipe docs/security.md
 * shows): a CA, a server certificate for localhost and 127.0.0.1, client certificates, and the bad
 * ones the mTLS tests present. Keys are EC P-256 (fast to make) unless a case needs RSA.
 */
final class TlsCertificates {
    /** 100 years, in the openssl ca date format. */
    static final String NOT_BEFORE = "20000101000000Z";
    static final String NOT_AFTER = "21250101000000Z";

    final Path dir;

    /** A certificate, its PKCS#8 key and the CA that signed it. */
    record Issued(Path cert, Path key) {
    }

    /** A CA: its certificate and key, and the openssl ca state directory. */
    record Authority(String name, Path cert, Path key, Path state) {
    }

    TlsCertificates(Path dir) {
        this.dir = dir;
    }

    static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** An unencrypted PKCS#8 key: "ec" (P-256) or "rsa" (2048 bits). */
    Path key(String name, String type) throws IOException {
        Path key = dir.resolve(name + ".key");
        if (type.equals("rsa")) {
            run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.toString());
        } else {
            run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
        }
        return key;
    }

    /** A self-signed CA (basicConstraints CA:TRUE, keyCertSign). */
    Authority authority(String name, String subject) throws IOException {
        Path key = key(name, "ec");
        Path cert = dir.resolve(name + ".pem");
        Path cnf = write(name + "-req.cnf", """
                [req]
                distinguished_name = dn
                prompt = no
                [dn]
                CN = %s
                [v3]
                basicConstraints = critical, CA:TRUE
                keyUsage = critical, keyCertSign, cRLSign
                subjectKeyIdentifier = hash
                """.formatted(subject));
        run("openssl", "req", "-x509", "-new", "-key", key.toString(), "-config", cnf.toString(), "-extensions", "v3",
                "-days", "36500", "-sha256", "-out", cert.toString());
        Path state = Files.createDirectories(dir.resolve(name + "-state"));
        return new Authority(name, cert, key, state(state));
    }

    /**
     * A certificate for subject signed by ca, valid from notBefore to notAfter (openssl ca format),
     * with the given v3 extension lines.
     */
    Issued issue(Authority ca, String name, String subject, String keyType, String notBefore, String notAfter,
                 String extensions) throws IOException {
        Path key = key(name, keyType);
        return issueFor(ca, name, subject, key, notBefore, notAfter, extensions);
    }

    Issued issueFor(Authority ca, String name, String subject, Path key, String notBefore, String notAfter,
                    String extensions) throws IOException {
        Path csr = dir.resolve(name + ".csr");
        Path reqCnf = write(name + "-req.cnf", """
                [req]
                distinguished_name = dn
                prompt = no
                [dn]
                CN = %s
                """.formatted(subject));
        run("openssl", "req", "-new", "-key", key.toString(), "-config", reqCnf.toString(), "-out", csr.toString());
        Path caCnf = write(name + "-ca.cnf", """
                [ca]
                default_ca = tern
                [tern]
                database = %s
                new_certs_dir = %s
                serial = %s
                default_md = sha256
                policy = any
                unique_subject = no
                copy_extensions = none
                [any]
                commonName = supplied
                [ext]
                %s
                """.formatted(ca.state().resolve("index.txt"), ca.state(), ca.state().resolve("serial"), extensions));
        Path cert = dir.resolve(name + ".pem");
        run("openssl", "ca", "-batch", "-notext", "-config", caCnf.toString(), "-cert", ca.cert().toString(),
                "-keyfile", ca.key().toString(), "-in", csr.toString(), "-out", cert.toString(), "-rand_serial",
                "-startdate", notBefore, "-enddate", notAfter, "-extensions", "ext");
        return new Issued(cert, key);
    }

    /** Prepares an openssl ca state directory (empty database, serial file). */
    static Path state(Path state) throws IOException {
        Files.createDirectories(state);
        Files.writeString(state.resolve("index.txt"), "");
        Files.writeString(state.resolve("serial"), "01\n");
        return state;
    }

    /** A self-signed leaf (not a CA) for subject. */
    Issued selfSigned(String name, String subject, String keyType, String extensions) throws IOException {
        Path key = key(name, keyType);
        Path cert = dir.resolve(name + ".pem");
        Path cnf = write(name + "-req.cnf", """
                [req]
                distinguished_name = dn
                prompt = no
                [dn]
                CN = %s
                [v3]
                %s
                """.formatted(subject, extensions));
        run("openssl", "req", "-x509", "-new", "-key", key.toString(), "-config", cnf.toString(), "-extensions", "v3",
                "-days", "36500", "-sha256", "-out", cert.toString());
        return new Issued(cert, key);
    }

    /** Extensions of a good server certificate for the given DNS names and IP addresses. */
    static String serverExtensions(String sans) {
        return "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n"
                + "extendedKeyUsage = serverAuth\nsubjectAltName = " + sans;
    }

    /** Extensions of a good client certificate. */
    static final String CLIENT_EXTENSIONS = "basicConstraints = critical, CA:FALSE\n"
            + "keyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth";

    /** Concatenates PEM files (a chain: leaf first). */
    Path chain(String name, Path... pems) throws IOException {
        StringBuilder b = new StringBuilder();
        for (Path p : pems) {
            b.append(Files.readString(p, StandardCharsets.US_ASCII));
        }
        return write(name, b.toString());
    }

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.US_ASCII);
        return p;
    }

    static void run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + output);
        }
    }
}
