package tern.cli;

import java.time.Duration;
import tern.client.Connection;
import tern.client.TernException;

/** Client calls whose failures become one-line CommandFailedExceptions. */
final class Operations {
    private Operations() {
    }

    static void flush(Connection c, Duration timeout) {
        try {
            c.flush(timeout);
        } catch (TernException e) {
            throw new CommandFailedException("flush failed: " + Failures.reason(e), e);
        }
    }
}
