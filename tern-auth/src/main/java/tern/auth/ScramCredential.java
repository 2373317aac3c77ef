package tern.auth;

import java.security.SecureRandom;
import java.util.Arrays;
import tern.protocol.auth.Scram;

/**
 * What the server stores for a SCRAM-SHA-256 user instead of a password (RFC 5802 §3): the salt, the
 * iteration count, StoredKey = H(ClientKey) and ServerKey. StoredKey lets the server verify a proof
 * but not forge one; knowing both lets an attacker impersonate the server, so the users file is
 * secret (mode 0600) even though it holds no password.
 *
 * @param iterations PBKDF2 iterations, {@link Scram#MIN_ITERATIONS}..{@link Scram#MAX_ITERATIONS}
 * @param salt       1..{@link Scram#MAX_SALT_BYTES} bytes
 * @param storedKey  32 bytes
 * @param serverKey  32 bytes
 */
public record ScramCredential(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    /** Salt bytes generated for new credentials. */
    public static final int SALT_BYTES = 16;

    public ScramCredential {
        Scram.requireIterations(iterations);
        if (salt.length == 0 || salt.length > Scram.MAX_SALT_BYTES) {
            throw new IllegalArgumentException("salt " + salt.length + " bytes outside 1.." + Scram.MAX_SALT_BYTES);
        }
        if (storedKey.length != Scram.KEY_BYTES || serverKey.length != Scram.KEY_BYTES) {
            throw new IllegalArgumentException("StoredKey and ServerKey must be " + Scram.KEY_BYTES + " bytes, were "
                    + storedKey.length + " and " + serverKey.length);
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /** Derives the credential for password with the given salt (used by tests with RFC 7677's salt). */
    public static ScramCredential derive(String password, byte[] salt, int iterations) {
        byte[] salted = Scram.saltedPassword(password, salt, iterations);
        return new ScramCredential(iterations, salt, Scram.storedKey(Scram.clientKey(salted)), Scram.serverKey(salted));
    }

    /** A credential with a fresh random {@link #SALT_BYTES}-byte salt. */
    public static ScramCredential generate(String password, int iterations, SecureRandom random) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        return derive(password, salt, iterations);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** Users-file value: {@code <iterations>:<salt b64>:<StoredKey b64>:<ServerKey b64>}. */
    public String format() {
        return iterations + ":" + Scram.base64(salt) + ":" + Scram.base64(storedKey) + ":" + Scram.base64(serverKey);
    }

    /**
     * Parses {@link #format()}'s output.
     *
     * @throws IllegalArgumentException naming the bad part
     */
    public static ScramCredential parse(String value) {
        String[] p = value.split(":", -1);
        if (p.length != 4) {
            throw new IllegalArgumentException("expected <iterations>:<salt>:<StoredKey>:<ServerKey>, got "
                    + p.length + " parts");
        }
        int iterations;
        try {
            iterations = Integer.parseInt(p[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("iterations '" + p[0] + "' is not a number");
        }
        return new ScramCredential(iterations, b64(p[1], "salt"), b64(p[2], "StoredKey"), b64(p[3], "ServerKey"));
    }

    private static byte[] b64(String s, String field) {
        try {
            return java.util.Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + " is not valid base64");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramCredential c && iterations == c.iterations && Arrays.equals(salt, c.salt)
                && Arrays.equals(storedKey, c.storedKey) && Arrays.equals(serverKey, c.serverKey);
    }

    @Override
    public int hashCode() {
        return iterations * 31 + Arrays.hashCode(salt);
    }

    /** Never prints key material. */
    @Override
    public String toString() {
        return "ScramCredential[" + iterations + " iterations]";
    }
}
