package tern.protocol.auth;

/**
 * A SCRAM exchange failed: a malformed or out-of-order message, a failed proof or signature, or a
 * bound exceeded. This is the only exception {@link ScramClient} (and the server in tern-auth) let
 * escape for bad peer input. The message names the reason for logs; a server must not send it to the
 * peer (it answers a bare AUTH_FAILED, so an unknown user looks like a wrong password).
 */
public final class ScramException extends RuntimeException {
    public ScramException(String message) {
        super(message, null, false, false);
    }
}
