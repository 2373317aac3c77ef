package tern.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import tern.protocol.auth.AuthMechanism;
import tern.protocol.auth.Scram;

/**
 * How a connection authenticates (docs/security.md): a user name and password for SCRAM-SHA-256, or a
 * bearer token for TOKEN. Set through {@link ConnectOptions.Builder#user}, {@link
 * ConnectOptions.Builder#password} and {@link ConnectOptions.Builder#token}. {@link #toString()} never
 * shows the password or token.
 *
 * @param mechanism {@link AuthMechanism#SCRAM_SHA_256} or {@link AuthMechanism#TOKEN}
 * @param user      the user name (SCRAM), or null (TOKEN)
 * @param secret    the password (SCRAM) or the token (TOKEN)
 */
public record Credentials(String mechanism, String user, String secret) {
    public Credentials {
        Objects.requireNonNull(mechanism, "mechanism");
        Objects.requireNonNull(secret, "secret");
        switch (mechanism) {
            case AuthMechanism.SCRAM_SHA_256 -> {
                Objects.requireNonNull(user, "user");
                int nameBytes = Scram.normalize(user).getBytes(StandardCharsets.UTF_8).length;
                if (nameBytes == 0 || nameBytes > Scram.MAX_USERNAME_BYTES) {
                    throw new IllegalArgumentException("user name " + nameBytes + " bytes outside 1.."
                            + Scram.MAX_USERNAME_BYTES);
                }
                int passwordBytes = secret.getBytes(StandardCharsets.UTF_8).length;
                if (passwordBytes > Scram.MAX_PASSWORD_BYTES) {
                    throw new IllegalArgumentException("password " + passwordBytes + " bytes > max "
                            + Scram.MAX_PASSWORD_BYTES);
                }
            }
            case AuthMechanism.TOKEN -> {
                int tokenBytes = secret.getBytes(StandardCharsets.UTF_8).length;
                if (tokenBytes == 0 || tokenBytes > AuthMechanism.MAX_TOKEN_BYTES) {
                    throw new IllegalArgumentException("token " + tokenBytes + " bytes outside 1.."
                            + AuthMechanism.MAX_TOKEN_BYTES);
                }
            }
            default -> throw new IllegalArgumentException("unknown mechanism '" + mechanism + "' ("
                    + AuthMechanism.SCRAM_SHA_256 + ", " + AuthMechanism.TOKEN + ")");
        }
    }

    /** SCRAM-SHA-256 with a user name and password. */
    public static Credentials password(String user, String password) {
        return new Credentials(AuthMechanism.SCRAM_SHA_256, user, password);
    }

    /** TOKEN with a bearer token ({@code tern user token NAME} prints one). Use it only over TLS. */
    public static Credentials token(String token) {
        return new Credentials(AuthMechanism.TOKEN, null, token);
    }

    @Override
    public String toString() {
        return mechanism.equals(AuthMechanism.TOKEN) ? "Credentials[TOKEN, token=***]"
                : "Credentials[" + mechanism + ", user=" + user + ", password=***]";
    }
}
