package tern.auth;

/** The users file is malformed; the message names the source and line ({@code users.txt:7: ...}). */
public final class UsersFileException extends Exception {
    private final int line;

    public UsersFileException(String source, int line, String message) {
        super(source + ":" + line + ": " + message);
        this.line = line;
    }

    /** 1-based line number, or 0 for a whole-file problem (size, user count). */
    public int line() {
        return line;
    }
}
