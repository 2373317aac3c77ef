package tern.protocol;

/** A peer broke the protocol; carries the {@link ErrorCode} the receiver answers with. */
public final class ProtocolException extends RuntimeException {
    private final ErrorCode code;

    public ProtocolException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
