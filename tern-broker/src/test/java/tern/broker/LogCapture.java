package tern.broker;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Logback appender keeping ERROR events (and Netty's leak reports) so tests can assert there were none. */
public final class LogCapture extends AppenderBase<ILoggingEvent> {
    private static final List<String> ERRORS = new CopyOnWriteArrayList<>();
    private static final int MAX_KEPT = 1000;

    @Override
    protected void append(ILoggingEvent e) {
        boolean leak = e.getFormattedMessage() != null && e.getFormattedMessage().contains("LEAK:");
        if ((e.getLevel().isGreaterOrEqual(Level.ERROR) || leak) && ERRORS.size() < MAX_KEPT) {
            ERRORS.add(e.getLoggerName() + ": " + e.getFormattedMessage()
                    + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getClassName() + ": "
                    + e.getThrowableProxy().getMessage()));
        }
    }

    public static void clear() {
        ERRORS.clear();
    }

    /** Throws AssertionError listing every ERROR logged since {@link #clear()}. */
    public static void assertNoErrors() {
        if (!ERRORS.isEmpty()) {
            throw new AssertionError("the broker logged errors: " + ERRORS);
        }
    }
}
