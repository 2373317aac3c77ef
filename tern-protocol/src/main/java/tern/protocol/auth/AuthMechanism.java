package tern.protocol.auth;

/**
 * Names carried in HELLO.authMechanism (docs/security.md, "Mechanisms and frames").
 *
 * <ul>
 *   <li>{@link #NONE}: no authentication; HELLO.authData is empty.</li>
 *   <li>{@link #SCRAM_SHA_256}: HELLO.authData = client-first-message; CHALLENGE.data = server-first-message;
 *       AUTH.data = client-final-message; WELCOME.authData = server-final-message ({@code v=...}).</li>
 *   <li>{@link #TOKEN}: HELLO.authData = the user's bearer token (UTF-8); WELCOME.authData is empty.</li>
 * </ul>
 */
public final class AuthMechanism {
    public static final String NONE = "";
    public static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
    public static final String TOKEN = "TOKEN";
    /** A bearer token longer than this is refused before it is hashed. */
    public static final int MAX_TOKEN_BYTES = 1024;

    private AuthMechanism() {
    }
}
