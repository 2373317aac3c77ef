package tern.client;

import tern.protocol.ErrorCode;

/**
 * The server answered with an ERROR frame. {@link #code()} is the stable {@link ErrorCode}
 * (null when this client version does not know the number, see {@link #wireCode()}).
 * Thrown to the caller waiting for the failed frame (an acknowledged subscribe, a flush), and
 * otherwise reported to {@link ConnectionListener#onError}.
 */
public class ServerException extends TernException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;
    private final int wireCode;
    private final String text;

    public ServerException(ErrorCode code, String text) {
        this(code, code == null ? -1 : code.code(), text);
    }

    ServerException(ErrorCode code, int wireCode, String text) {
        super((code == null ? "error " + wireCode : code.name() + " (" + wireCode + ")") + ": " + text);
        this.code = code;
        this.wireCode = wireCode;
        this.text = text;
    }

    /** The error code, or null when unknown to this client version. */
    public ErrorCode code() {
        return code;
    }

    /** The number carried on the wire. */
    public int wireCode() {
        return wireCode;
    }

    /** The server's explanation. */
    public String text() {
        return text;
    }

    static ServerException of(int wireCode, String text) {
        ErrorCode code = ErrorCode.of(wireCode);
        return code == ErrorCode.SLOW_CONSUMER ? new SlowConsumerException(text) : new ServerException(code, wireCode, text);
    }
}
