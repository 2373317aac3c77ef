package tern.broker;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import tern.protocol.Limits;

/** Starts brokers on 127.0.0.1:0, closes them after each test, and fails the test on any logged ERROR. */
abstract class BrokerTestBase {
    protected TernBroker broker;

    @BeforeEach
    void clearLog() {
        LogCapture.clear();
    }

    @AfterEach
    void stopAndCheckLog() {
        if (broker != null) {
            broker.close();
            broker = null;
        }
        LogCapture.assertNoErrors();
    }

    protected TernBroker start() {
        return start(Limits.DEFAULT);
    }

    protected TernBroker start(Limits limits) {
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withLimits(limits)
                .withDrainTimeout(Duration.ofSeconds(2)));
        return broker;
    }

    protected TernBroker start(BrokerConfig config) {
        broker = TernBroker.start(config);
        return broker;
    }
}
