package tern.cli;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import tern.protocol.auth.Scram;

/**
 * Where the CLI gets passwords: standard input ({@code --password-stdin}), the terminal
 * ({@link System#console()}, not echoed), or a {@code --password} flag for scripts (visible to other
 * local users in the process list and kept in shell history: prefer stdin or TERN_PASSWORD).
 */
final class Passwords {
    /** Environment variable read by the client commands when --user is given without --password. */
    static final String ENV_PASSWORD = "TERN_PASSWORD";
    /** Longest line read from stdin (a password is at most Scram.MAX_PASSWORD_BYTES UTF-8 bytes). */
    private static final int MAX_STDIN_CHARS = Scram.MAX_PASSWORD_BYTES + 2;

    private Passwords() {
    }

    /** The first line of in, without its line end; fails on an empty or over-long one. */
    static String fromStdin(InputStream in) {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        char[] buf = new char[MAX_STDIN_CHARS + 1];
        int n = 0;
        try {
            for (int c = r.read(); c >= 0 && c != '\n' && n <= MAX_STDIN_CHARS; c = r.read()) {
                buf[n++] = (char) c;
            }
        } catch (IOException e) {
            throw new CommandFailedException("cannot read the password from stdin: " + e.getMessage(), e);
        }
        if (n > MAX_STDIN_CHARS) {
            throw new CommandFailedException("password on stdin longer than " + Scram.MAX_PASSWORD_BYTES + " bytes");
        }
        if (n > 0 && buf[n - 1] == '\r') {
            n--;
        }
        String password = new String(buf, 0, n);
        Arrays.fill(buf, '\0');
        return check(password);
    }

    /** Asks on the terminal (twice when confirm), without echo. */
    static String prompt(String what, boolean confirm) {
        Console console = System.console();
        if (console == null) {
            throw new CommandFailedException("no terminal to ask for " + what + ": use --password-stdin (or "
                    + ENV_PASSWORD + " for client commands)");
        }
        char[] first = console.readPassword("%s: ", what);
        if (first == null) {
            throw new CommandFailedException("no password entered");
        }
        if (confirm) {
            char[] again = console.readPassword("Repeat %s: ", what);
            if (again == null || !Arrays.equals(first, again)) {
                throw new CommandFailedException("the passwords do not match");
            }
            Arrays.fill(again, '\0');
        }
        String password = new String(first);
        Arrays.fill(first, '\0');
        return check(password);
    }

    static String check(String password) {
        if (password.isEmpty()) {
            throw new CommandFailedException("empty password");
        }
        int bytes = password.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Scram.MAX_PASSWORD_BYTES) {
            throw new CommandFailedException("password " + bytes + " bytes > max " + Scram.MAX_PASSWORD_BYTES);
        }
        return password;
    }
}
