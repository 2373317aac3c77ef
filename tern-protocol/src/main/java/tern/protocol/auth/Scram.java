package tern.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) building blocks shared by the client ({@link ScramClient}) and
 * the server (tern-auth's ScramServer). Every primitive is the JDK's: HmacSHA256, SHA-256,
 * PBKDF2WithHmacSHA256 for Hi(), SecureRandom, MessageDigest.isEqual.
 *
 * <p><b>SASLprep-lite.</b> Tern does not implement full SASLprep (RFC 4013). Usernames and passwords
 * are normalised to Unicode NFC ({@link #normalize}) and then used as UTF-8. Pure ASCII input is
 * unchanged, so this agrees with SASLprep for every ASCII name and password; for other input both
 * sides apply the same rule, so they agree with each other. In messages a username has {@code =}
 * written as {@code =3D} and {@code ,} as {@code =2C} ({@link #escapeUsername}).
 *
 * <p><b>Bounds.</b> Every message is at most {@link #MAX_MESSAGE_BYTES}; iteration counts lie in
 * {@link #MIN_ITERATIONS}..{@link #MAX_ITERATIONS}; a username is at most {@link #MAX_USERNAME_BYTES}
 * of UTF-8; nonces are at most {@link #MAX_NONCE_CHARS}; salts at most {@link #MAX_SALT_BYTES}.
 */
public final class Scram {
    /** RFC 7677 §4: at least 4096 iterations. Both sides refuse fewer. */
    public static final int MIN_ITERATIONS = 4096;
    /** A client refuses a server-first asking for more, so a hostile server cannot pin its CPU. */
    public static final int MAX_ITERATIONS = 1_000_000;
    public static final int MAX_MESSAGE_BYTES = 2048;
    public static final int MAX_USERNAME_BYTES = 255;
    public static final int MAX_PASSWORD_BYTES = 1024;
    public static final int MAX_NONCE_CHARS = 256;
    public static final int MAX_SALT_BYTES = 128;
    /** Random bytes in a nonce we generate (base64: 32 characters). */
    public static final int NONCE_BYTES = 24;
    /** SHA-256 output, also the size of every key, proof and signature. */
    public static final int KEY_BYTES = 32;
    /** The GS2 header Tern clients send: no channel binding, no authzid. */
    public static final String GS2_HEADER = "n,,";

    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);

    /** Hi(password, salt, i) = PBKDF2-HMAC-SHA-256 with a 32-byte output. */
    public static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        requireIterations(iterations);
        String p = normalize(password);
        if (p.getBytes(StandardCharsets.UTF_8).length > MAX_PASSWORD_BYTES) {
            throw new IllegalArgumentException("password over " + MAX_PASSWORD_BYTES + " bytes");
        }
        // PBKDF2WithHmacSHA256 encodes the chars as UTF-8, which is what RFC 5802 hashes.
        PBEKeySpec spec = new PBEKeySpec(p.toCharArray(), salt, iterations, KEY_BYTES * 8);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks PBKDF2WithHmacSHA256", e);
        } finally {
            spec.clearPassword();
        }
    }

    public static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks HmacSHA256", e);
        }
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks SHA-256", e);
        }
    }

    /** ClientKey = HMAC(SaltedPassword, "Client Key"). */
    public static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    /** ServerKey = HMAC(SaltedPassword, "Server Key"). */
    public static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    /** StoredKey = H(ClientKey). */
    public static byte[] storedKey(byte[] clientKey) {
        return sha256(clientKey);
    }

    /** a XOR b; both {@link #KEY_BYTES} long. */
    public static byte[] xor(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("xor of " + a.length + " and " + b.length + " bytes");
        }
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    /** Constant-time equality (MessageDigest.isEqual). */
    public static boolean constantTimeEquals(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    /** A fresh printable nonce: base64 of {@link #NONCE_BYTES} random bytes (no ',' can occur). */
    public static String newNonce(SecureRandom random) {
        byte[] b = new byte[NONCE_BYTES];
        random.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    /** SASLprep-lite: Unicode NFC. */
    public static String normalize(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    /** RFC 5802 saslname: '=' becomes "=3D", ',' becomes "=2C". */
    public static String escapeUsername(String username) {
        return username.replace("=", "=3D").replace(",", "=2C");
    }

    /** Inverse of {@link #escapeUsername}; any other '=' sequence is a {@link ScramException}. */
    public static String unescapeUsername(String saslname) {
        StringBuilder out = new StringBuilder(saslname.length());
        for (int i = 0; i < saslname.length(); i++) {
            char c = saslname.charAt(i);
            if (c == ',') {
                throw new ScramException("username has an unescaped ','");
            }
            if (c != '=') {
                out.append(c);
            } else if (saslname.startsWith("=3D", i)) {
                out.append('=');
                i += 2;
            } else if (saslname.startsWith("=2C", i)) {
                out.append(',');
                i += 2;
            } else {
                throw new ScramException("username has a bad escape at char " + i + " (only =3D and =2C)");
            }
        }
        return out.toString();
    }

    public static String base64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    /** Strict base64 decode (RFC 4648 alphabet, padding as the encoder writes it). */
    public static byte[] unbase64(String s, String field) {
        try {
            byte[] b = Base64.getDecoder().decode(s);
            if (!base64(b).equals(s)) {
                throw new ScramException(field + " is not canonical base64");
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw new ScramException(field + " is not valid base64");
        }
    }

    /** Throws IllegalArgumentException (our own configuration) outside the allowed range. */
    public static void requireIterations(int iterations) {
        if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("iterations " + iterations + " outside "
                    + MIN_ITERATIONS + ".." + MAX_ITERATIONS);
        }
    }

    /** A nonce is printable ASCII 0x21..0x7E except ',' (RFC 5802 "printable"), 1..MAX_NONCE_CHARS. */
    public static void checkNonce(String nonce, String field) {
        if (nonce.isEmpty() || nonce.length() > MAX_NONCE_CHARS) {
            throw new ScramException(field + " length " + nonce.length() + " outside 1.." + MAX_NONCE_CHARS);
        }
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                throw new ScramException(field + " has a non-printable or ',' character at " + i);
            }
        }
    }

    /**
     * Decodes a message as strict UTF-8 within {@link #MAX_MESSAGE_BYTES}; null or malformed input is
     * a {@link ScramException}.
     */
    public static String decodeMessage(byte[] message, String what) {
        if (message == null) {
            throw new ScramException(what + " is missing");
        }
        if (message.length == 0) {
            throw new ScramException(what + " is empty");
        }
        if (message.length > MAX_MESSAGE_BYTES) {
            throw new ScramException(what + " " + message.length + " bytes > max " + MAX_MESSAGE_BYTES);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(message)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ScramException(what + " is not valid UTF-8");
        }
    }

    /**
     * Splits "k=v,k=v" and checks that the attributes are exactly the expected single-letter names in
     * order; returns the values. Nothing may follow the last expected attribute (Tern accepts no
     * extensions, and a mandatory extension "m=" is refused as RFC 5802 requires).
     */
    public static String[] attributes(String message, String what, char... names) {
        String[] parts = message.split(",", -1);
        if (parts.length != names.length) {
            if (parts.length > 0 && parts[0].startsWith("m=")) {
                throw new ScramException(what + ": mandatory extension not supported");
            }
            throw new ScramException(what + " has " + parts.length + " attributes, expected " + names.length
                    + " (" + new String(names) + ")");
        }
        String[] values = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            String p = parts[i];
            if (p.length() < 2 || p.charAt(0) != names[i] || p.charAt(1) != '=') {
                throw new ScramException(what + " attribute " + (i + 1) + " should be '" + names[i] + "='");
            }
            values[i] = p.substring(2);
        }
        return values;
    }

    /** Parses a decimal iteration count from a peer; out of range is a {@link ScramException}. */
    public static int parseIterations(String s) {
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ScramException("iteration count '" + abbreviate(s) + "' is not a decimal number");
        }
        long i = Long.parseLong(s);
        if (i < MIN_ITERATIONS || i > MAX_ITERATIONS) {
            throw new ScramException("iteration count " + i + " outside " + MIN_ITERATIONS + ".." + MAX_ITERATIONS);
        }
        return (int) i;
    }

    static String abbreviate(String s) {
        return s.length() <= 32 ? s : s.substring(0, 32) + "...";
    }

    private Scram() {
    }
}
