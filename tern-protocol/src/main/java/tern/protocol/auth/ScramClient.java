package tern.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * The client side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677). One instance per attempt; not
 * thread-safe. The calls must come in this order:
 *
 * <pre>
 *   byte[] first  = client.clientFirst();              // HELLO.authData
 *   byte[] last   = client.clientFinal(challengeData); // CHALLENGE.data in, AUTH.data out
 *   client.verifyServerFinal(welcomeAuthData);         // WELCOME.authData: the server proves itself
 * </pre>
 *
 * <p>Any bad server input, an out-of-order call, or a server signature that does not verify throws
 * {@link ScramException} and leaves the client failed. The client refuses iteration counts outside
 * {@link Scram#MIN_ITERATIONS}..{@code maxIterations}. Channel binding is not used (GS2 header
 * {@code n,,}); TLS comes from the transport. Usernames and passwords follow {@link Scram}'s
 * SASLprep-lite rule (NFC, then UTF-8).
 */
public final class ScramClient {
    private enum State { INITIAL, FIRST_SENT, FINAL_SENT, DONE, FAILED }

    private final String username;
    private final String password;
    private final String clientNonce;
    private final int maxIterations;
    private State state = State.INITIAL;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    /** A client with a fresh random nonce and the default iteration ceiling {@link Scram#MAX_ITERATIONS}. */
    public ScramClient(String username, String password) {
        this(username, password, Scram.newNonce(new SecureRandom()), Scram.MAX_ITERATIONS);
    }

    /**
     * A client refusing server-first messages asking more than maxIterations (cost ceiling).
     *
     * @throws IllegalArgumentException if the username is empty or over {@link Scram#MAX_USERNAME_BYTES}
     */
    public ScramClient(String username, String password, int maxIterations) {
        this(username, password, Scram.newNonce(new SecureRandom()), maxIterations);
    }

    /** For tests that replay RFC 7677's fixed nonce. */
    ScramClient(String username, String password, String clientNonce, int maxIterations) {
        this.username = Scram.normalize(Objects.requireNonNull(username, "username"));
        this.password = Objects.requireNonNull(password, "password");
        int nameBytes = this.username.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes == 0 || nameBytes > Scram.MAX_USERNAME_BYTES) {
            throw new IllegalArgumentException("username " + nameBytes + " bytes outside 1.." + Scram.MAX_USERNAME_BYTES);
        }
        Scram.requireIterations(maxIterations);
        this.clientNonce = clientNonce;
        this.maxIterations = maxIterations;
    }

    /** The client-first-message: {@code n,,n=<saslname>,r=<client nonce>}. */
    public byte[] clientFirst() {
        expect(State.INITIAL, "clientFirst");
        clientFirstBare = "n=" + Scram.escapeUsername(username) + ",r=" + clientNonce;
        state = State.FIRST_SENT;
        return (Scram.GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Consumes the server-first-message {@code r=<nonce>,s=<salt>,i=<iterations>} and returns the
     * client-final-message {@code c=biws,r=<nonce>,p=<proof>}.
     */
    public byte[] clientFinal(byte[] serverFirst) {
        expect(State.FIRST_SENT, "clientFinal");
        state = State.FAILED;
        String serverFirstText = Scram.decodeMessage(serverFirst, "server-first");
        String[] v = Scram.attributes(serverFirstText, "server-first", 'r', 's', 'i');
        String nonce = v[0];
        Scram.checkNonce(nonce, "server nonce");
        if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
            throw new ScramException("server nonce does not extend the client nonce");
        }
        byte[] salt = Scram.unbase64(v[1], "salt");
        if (salt.length == 0 || salt.length > Scram.MAX_SALT_BYTES) {
            throw new ScramException("salt " + salt.length + " bytes outside 1.." + Scram.MAX_SALT_BYTES);
        }
        int iterations = Scram.parseIterations(v[2]);
        if (iterations > maxIterations) {
            throw new ScramException("iteration count " + iterations + " > this client's max " + maxIterations);
        }
        String withoutProof = "c=" + Scram.base64(Scram.GS2_HEADER.getBytes(StandardCharsets.US_ASCII)) + ",r=" + nonce;
        byte[] authMessage = (clientFirstBare + "," + serverFirstText + "," + withoutProof)
                .getBytes(StandardCharsets.UTF_8);
        byte[] salted = Scram.saltedPassword(password, salt, iterations);
        byte[] clientKey = Scram.clientKey(salted);
        byte[] clientSignature = Scram.hmac(Scram.storedKey(clientKey), authMessage);
        byte[] proof = Scram.xor(clientKey, clientSignature);
        expectedServerSignature = Scram.hmac(Scram.serverKey(salted), authMessage);
        state = State.FINAL_SENT;
        return (withoutProof + ",p=" + Scram.base64(proof)).getBytes(StandardCharsets.UTF_8);
    }

    /** Verifies the server-final-message {@code v=<signature>} in constant time. */
    public void verifyServerFinal(byte[] serverFinal) {
        expect(State.FINAL_SENT, "verifyServerFinal");
        state = State.FAILED;
        String text = Scram.decodeMessage(serverFinal, "server-final");
        if (text.startsWith("e=")) {
            throw new ScramException("server reported error: " + Scram.abbreviate(text.substring(2)));
        }
        String[] v = Scram.attributes(text, "server-final", 'v');
        byte[] signature = Scram.unbase64(v[0], "server signature");
        if (!Scram.constantTimeEquals(signature, expectedServerSignature)) {
            throw new ScramException("server signature does not verify: the server does not know the credential");
        }
        state = State.DONE;
    }

    /** True once the server's signature verified: both sides proved knowledge of the credential. */
    public boolean isComplete() {
        return state == State.DONE;
    }

    private void expect(State expected, String call) {
        if (state != expected) {
            State was = state;
            state = State.FAILED;
            throw new ScramException(call + " called in state " + was + ", expected " + expected);
        }
    }
}
