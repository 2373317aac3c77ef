package tern.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import tern.protocol.auth.Scram;
import tern.protocol.auth.ScramException;

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), one instance per connection
 * attempt; not thread-safe. Frames (docs/security.md):
 *
 * <pre>
 *   byte[] challenge = server.serverFirst(hello.authData());  // send CHALLENGE(challenge)
 *   byte[] verifier  = server.serverFinal(auth.data());       // send WELCOME(authData = verifier)
 *   User who = server.user();
 * </pre>
 *
 * <p>Every failure (malformed, out of order, wrong nonce, wrong proof) throws {@link ScramException}
 * and leaves the exchange failed for good; the broker answers ERROR AUTH_FAILED and closes, never
 * sending the exception's text. An unknown user (or one without a password) gets a fake verifier
 * derived from the store's fake-salt key and the name, with the store's usual iteration count, and
 * fails at the proof exactly like a wrong password: same messages, same work.
 */
public final class ScramServer {
    private enum State { INITIAL, FIRST_SENT, DONE, FAILED }

    private static final String PROOF_FAILED = "proof does not verify (wrong password or unknown user)";

    private final UserStore users;
    private final SecureRandom random;
    private final String fixedServerNonce;
    private State state = State.INITIAL;
    private String gs2HeaderBase64;
    private String nonce;
    private String clientFirstBare;
    private String serverFirst;
    private ScramCredential credential;
    private User candidate;
    private User authenticated;

    public ScramServer(UserStore users) {
        this(users, new SecureRandom(), null);
    }

    /** For tests replaying RFC 7677: the server's part of the nonce is fixed. */
    ScramServer(UserStore users, String fixedServerNonce) {
        this(users, new SecureRandom(), fixedServerNonce);
    }

    private ScramServer(UserStore users, SecureRandom random, String fixedServerNonce) {
        this.users = Objects.requireNonNull(users);
        this.random = random;
        this.fixedServerNonce = fixedServerNonce;
    }

    /** Consumes client-first-message (HELLO.authData); returns server-first-message (CHALLENGE.data). */
    public byte[] serverFirst(byte[] clientFirst) {
        expect(State.INITIAL, "client-first");
        state = State.FAILED;
        String text = Scram.decodeMessage(clientFirst, "client-first");
        int first = text.indexOf(',');
        int second = first < 0 ? -1 : text.indexOf(',', first + 1);
        if (second < 0) {
            throw new ScramException("client-first lacks a GS2 header ('n,,')");
        }
        String cbFlag = text.substring(0, first);
        String authzid = text.substring(first + 1, second);
        switch (cbFlag) {
            case "n", "y" -> { }
            default -> {
                if (cbFlag.startsWith("p=")) {
                    throw new ScramException("channel binding requested but not offered (SCRAM-SHA-256, not -PLUS)");
                }
                throw new ScramException("bad channel-binding flag '" + abbreviate(cbFlag) + "' (n, y or p=)");
            }
        }
        if (!authzid.isEmpty()) {
            throw new ScramException(authzid.startsWith("a=") ? "authorization identity not supported"
                    : "bad authzid field (expected empty)");
        }
        String gs2Header = text.substring(0, second + 1);
        clientFirstBare = text.substring(second + 1);
        String[] v = Scram.attributes(clientFirstBare, "client-first", 'n', 'r');
        String username = Scram.normalize(Scram.unescapeUsername(v[0]));
        int nameBytes = username.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes == 0 || nameBytes > Scram.MAX_USERNAME_BYTES) {
            throw new ScramException("username " + nameBytes + " bytes outside 1.." + Scram.MAX_USERNAME_BYTES);
        }
        String clientNonce = v[1];
        Scram.checkNonce(clientNonce, "client nonce");

        // Same work whether or not the user exists: always derive the fake, then choose.
        ScramCredential fake = fakeCredential(username);
        User user = users.user(username).orElse(null);
        if (user != null && user.scram() != null) {
            candidate = user;
            credential = user.scram();
        } else {
            candidate = null;
            credential = fake;
        }
        gs2HeaderBase64 = Scram.base64(gs2Header.getBytes(StandardCharsets.UTF_8));
        nonce = clientNonce + (fixedServerNonce != null ? fixedServerNonce : Scram.newNonce(random));
        serverFirst = "r=" + nonce + ",s=" + Scram.base64(credential.salt()) + ",i=" + credential.iterations();
        state = State.FIRST_SENT;
        return serverFirst.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Consumes client-final-message (AUTH.data), verifies the proof in constant time and returns
     * server-final-message {@code v=<ServerSignature>} (WELCOME.authData).
     */
    public byte[] serverFinal(byte[] clientFinal) {
        expect(State.FIRST_SENT, "client-final");
        state = State.FAILED;
        String text = Scram.decodeMessage(clientFinal, "client-final");
        String[] v = Scram.attributes(text, "client-final", 'c', 'r', 'p');
        if (!v[0].equals(gs2HeaderBase64)) {
            throw new ScramException("channel-binding attribute c= does not repeat the client-first GS2 header");
        }
        if (!v[1].equals(nonce)) {
            throw new ScramException("nonce does not match this exchange (replayed or forged message)");
        }
        byte[] proof = Scram.unbase64(v[2], "proof");
        if (proof.length != Scram.KEY_BYTES) {
            throw new ScramException("proof " + proof.length + " bytes, expected " + Scram.KEY_BYTES);
        }
        String withoutProof = text.substring(0, text.length() - v[2].length() - ",p=".length());
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        byte[] storedKey = credential.storedKey();
        byte[] clientSignature = Scram.hmac(storedKey, authMessage);
        byte[] clientKey = Scram.xor(proof, clientSignature);
        boolean match = Scram.constantTimeEquals(Scram.sha256(clientKey), storedKey);
        if (!match || candidate == null) {
            throw new ScramException(PROOF_FAILED);
        }
        byte[] serverSignature = Scram.hmac(credential.serverKey(), authMessage);
        authenticated = candidate;
        state = State.DONE;
        return ("v=" + Scram.base64(serverSignature)).getBytes(StandardCharsets.UTF_8);
    }

    /** True after {@link #serverFinal} succeeded. */
    public boolean isComplete() {
        return state == State.DONE;
    }

    /**
     * The authenticated user.
     *
     * @throws IllegalStateException before success
     */
    public User user() {
        if (state != State.DONE) {
            throw new IllegalStateException("not authenticated (state " + state + ")");
        }
        return authenticated;
    }

    private ScramCredential fakeCredential(String username) {
        byte[] key = users.fakeSaltKey();
        byte[] name = username.getBytes(StandardCharsets.UTF_8);
        byte[] salt = Arrays.copyOf(Scram.hmac(key, label("salt", name)), ScramCredential.SALT_BYTES);
        return new ScramCredential(users.fakeIterations(), salt, Scram.hmac(key, label("stored-key", name)),
                Scram.hmac(key, label("server-key", name)));
    }

    private static byte[] label(String label, byte[] name) {
        byte[] l = label.getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(l, l.length + 1 + name.length);
        System.arraycopy(name, 0, out, l.length + 1, name.length);
        return out;
    }

    private void expect(State expected, String what) {
        if (state != expected) {
            State was = state;
            state = State.FAILED;
            throw new ScramException(what + " in state " + was + ", expected " + expected);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 32 ? s : s.substring(0, 32) + "...";
    }
}
