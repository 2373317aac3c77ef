package tern.client;

/** Root of every exception the Tern client throws (unchecked). */
public class TernException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TernException(String message) {
        super(message);
    }

    public TernException(String message, Throwable cause) {
        super(message, cause);
    }
}
