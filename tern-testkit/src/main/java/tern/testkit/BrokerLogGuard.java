package tern.testkit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

/**
 * Fails a test when an in-process broker logged an ERROR it did not expect. Register with
 * {@code @RegisterExtension static BrokerLogGuard logs = new BrokerLogGuard();} and call
 * {@link #expect(String)} for errors a test provokes on purpose.
 */
public final class BrokerLogGuard implements BeforeEachCallback, AfterEachCallback {
    private final List<ILoggingEvent> errors = new CopyOnWriteArrayList<>();
    private final List<String> expected = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.ERROR) && event.getLoggerName().startsWith("tern")) {
                errors.add(event);
            }
        }
    };

    /** Errors whose message contains this text do not fail the current test. */
    public void expect(String fragment) {
        expected.add(fragment);
    }

    /** ERROR events seen so far in the current test. */
    public List<ILoggingEvent> errors() {
        return List.copyOf(errors);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        errors.clear();
        expected.clear();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAppender(appender);
        appender.stop();
        List<String> unexpected = errors.stream()
                .map(ILoggingEvent::getFormattedMessage)
                .filter(m -> expected.stream().noneMatch(m::contains))
                .toList();
        if (!unexpected.isEmpty() && context.getExecutionException().isEmpty()) {
            throw new AssertionError("the broker logged unexpected errors: " + unexpected);
        }
    }
}
