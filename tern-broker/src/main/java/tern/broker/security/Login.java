package tern.broker.security;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.auth.ScramServer;
import tern.auth.User;
import tern.auth.UserStore;
import tern.protocol.ErrorCode;
import tern.protocol.auth.AuthMechanism;
import tern.protocol.auth.ScramException;

/**
 * One connection's authentication (docs/security.md, "Mechanisms and frames"), driven by the session on
 * its event loop: {@link #hello} with HELLO's mechanism and authData, then {@link #auth} with each AUTH's
 * data while {@link #awaitingAuth()}. Each call returns the session's next move as a {@link Step}. Not
 * thread-safe.
 *
 * <p>No PBKDF2 runs here: SCRAM's server side checks the proof with the stored verifier (StoredKey,
 * ServerKey: two HMACs and a hash per login), and an unknown user gets a fake verifier derived by HMAC.
 * A failure is logged (WARN, peer address, mechanism, the reason for the operator; never a password,
 * proof or token) and answered with {@link #FAILED_TEXT} after the throttle's delay, whatever the reason.
 */
public final class Login {
    /** The only text a client is ever told about a failed login: it does not say whether the user exists. */
    public static final String FAILED_TEXT = "authentication failed";
    /** Mechanism names are peer input; longer ones are cut in logs and errors. */
    private static final int MAX_LOGGED_MECHANISM_CHARS = 32;
    private static final Logger log = LoggerFactory.getLogger(Login.class);

    /** The session's next move. */
    public sealed interface Step permits Challenge, Success, Failure, Refusal {
    }

    /** Send CHALLENGE(data) and wait for AUTH. */
    public record Challenge(byte[] data) implements Step {
    }

    /** Send WELCOME(authData); the connection acts as user (null when the broker runs open) with access. */
    public record Success(String user, Access access, byte[] authData) implements Step {
    }

    /** Authentication failed: after hold, send ERROR AUTH_FAILED with {@link #FAILED_TEXT} and close. */
    public record Failure(Duration hold) implements Step {
    }

    /** Refused before any credential was checked: send ERROR(code, text) and close now. */
    public record Refusal(ErrorCode code, String text) implements Step {
    }

    private final Authenticator authenticator;
    private final SocketAddress peer;
    private final String address;
    private ScramServer scram;
    /** CN of the verified TLS client certificate, or null (docs/security.md section 8). */
    private final String certificateName;
    private String mechanism = "";
    private boolean finished;

    Login(Authenticator authenticator, SocketAddress peer, String address, String certificateName) {
        this.authenticator = authenticator;
        this.peer = peer;
        this.address = address;
        this.certificateName = certificateName;
    }

    /**
     * How long this connection's HELLO must wait before it is processed: the rest of the address's
     * penalty after earlier failures (LoginThrottle), zero when it has none or the broker runs open.
     */
    public Duration holdBeforeHello() {
        return authenticator.required() ? authenticator.throttle().remainingDelay(address) : Duration.ZERO;
    }

    /** HELLO arrived with this mechanism and authData. */
    public Step hello(String helloMechanism, byte[] authData) {
        if (finished || scram != null) {
            throw new IllegalStateException("hello called twice");
        }
        mechanism = helloMechanism;
        UserStore store = authenticator.currentStore();
        if (!authenticator.required()) {
            finished = true;
            if (helloMechanism.isEmpty()) {
                return new Success(null, Access.open(), new byte[0]);
            }
            return new Refusal(ErrorCode.UNSUPPORTED_MECHANISM, "auth mechanism '" + clip(helloMechanism)
                    + "' not offered (this server has no authentication configured)");
        }
        switch (helloMechanism) {
            case AuthMechanism.NONE -> {
                // mTLS: a verified client certificate whose CN names a user logs in as that user.
                Optional<User> byCertificate = certificateName == null ? Optional.empty() : store.user(certificateName);
                if (byCertificate.isPresent()) {
                    mechanism = "TLS client certificate";
                    return succeed(byCertificate.get(), new byte[0]);
                }
                finished = true;
                return new Refusal(ErrorCode.AUTH_REQUIRED, "this server requires authentication (mechanisms "
                        + AuthMechanism.SCRAM_SHA_256 + ", " + AuthMechanism.TOKEN + ")");
            }
            case AuthMechanism.SCRAM_SHA_256 -> {
                scram = new ScramServer(store);
                try {
                    return new Challenge(scram.serverFirst(authData));
                } catch (ScramException e) {
                    return fail(e.getMessage());
                }
            }
            case AuthMechanism.TOKEN -> {
                Optional<User> user = store.authenticateToken(authData);
                return user.isPresent() ? succeed(user.get(), new byte[0])
                        : fail("token (" + authData.length + " bytes) matches no user");
            }
            default -> {
                finished = true;
                return new Refusal(ErrorCode.UNSUPPORTED_MECHANISM, "auth mechanism '" + clip(helloMechanism)
                        + "' not offered (offered: " + AuthMechanism.SCRAM_SHA_256 + ", " + AuthMechanism.TOKEN + ")");
            }
        }
    }

    /** True while a CHALLENGE is outstanding: the next client frame must be AUTH. */
    public boolean awaitingAuth() {
        return !finished && scram != null;
    }

    /** AUTH arrived with data; only while {@link #awaitingAuth()}. */
    public Step auth(byte[] data) {
        if (!awaitingAuth()) {
            throw new IllegalStateException("no CHALLENGE outstanding");
        }
        try {
            byte[] serverFinal = scram.serverFinal(data);
            return succeed(scram.user(), serverFinal);
        } catch (ScramException e) {
            return fail(e.getMessage());
        }
    }

    private Step succeed(User user, byte[] authData) {
        finished = true;
        authenticator.throttle().onSuccess(address);
        log.info("connection from {} authenticated as '{}' ({})", peer, user.name(), mechanism);
        return new Success(user.name(), Access.of(user), authData);
    }

    private Step fail(String reason) {
        finished = true;
        Duration hold = authenticator.throttle().onFailure(address);
        log.warn("authentication failed for connection from {} ({}): {}; answering AUTH_FAILED after {} ms",
                peer, clip(mechanism), reason, hold.toMillis());
        return new Failure(hold);
    }

    /** Printable ASCII only, cut to a bound: mechanism names come from the peer. */
    private static String clip(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_LOGGED_MECHANISM_CHARS + 3));
        for (int i = 0; i < s.length() && i < MAX_LOGGED_MECHANISM_CHARS; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return s.length() > MAX_LOGGED_MECHANISM_CHARS ? sb.append("...").toString() : sb.toString();
    }
}
