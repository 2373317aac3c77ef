package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Limits;

class ShutdownTest extends BrokerTestBase {

    @Test
    @Timeout(30)
    void closeSendsGoAwayServesDuringDrainThenCloses() throws Exception {
        TernBroker b = TernBroker.start(BrokerConfig.defaults().withPort(0).withDrainTimeout(Duration.ofSeconds(3)));
        RawClient c = RawClient.open(b.port());
        try (RawClient stays = RawClient.open(b.port())) {
            c.sub(1, "during.drain");
            c.sync();
            Thread closer = new Thread(b::close);
            closer.start();
            Frame.GoAway g = (Frame.GoAway) c.read();
            assertThat(g.code()).isEqualTo(ErrorCode.SERVER_SHUTDOWN.code());
            assertThat(g.drainMillis()).isEqualTo(3000);
            assertThat(stays.read()).isInstanceOf(Frame.GoAway.class);
            // Still served during the drain.
            c.pub("during.drain", "late");
            assertThat(((Frame.Msg) c.read()).payload()).isEqualTo("late".getBytes());
            c.close();
            // The client that does not leave is closed at the drain deadline.
            assertThat(stays.closedByPeer(Duration.ofSeconds(10))).isTrue();
            closer.join(10_000);
            assertThat(closer.isAlive()).isFalse();
            assertThat(b.stats().connections()).isZero();
        } finally {
            c.close();
            b.close();
        }
    }

    @Test
    @Timeout(30)
    void closeReturnsEarlyWhenClientsLeave() throws Exception {
        TernBroker b = TernBroker.start(BrokerConfig.defaults().withPort(0).withDrainTimeout(Duration.ofSeconds(20)));
        RawClient c = RawClient.open(b.port());
        Thread closer = new Thread(b::close);
        closer.start();
        assertThat(c.read()).isInstanceOf(Frame.GoAway.class);
        c.close();
        closer.join(15_000);
        assertThat(closer.isAlive()).isFalse();
        b.close(); // idempotent
    }

    @Test
    @Timeout(30)
    void connectionsDuringShutdownAreRefusedAndPortIsReleased() throws Exception {
        TernBroker b = TernBroker.start(BrokerConfig.defaults().withPort(0).withLimits(Limits.DEFAULT));
        int port = b.port();
        b.close();
        TernBroker again = TernBroker.start(BrokerConfig.defaults().withPort(port));
        try (RawClient c = RawClient.open(again.port())) {
            c.sync();
        } finally {
            again.close();
        }
    }

    @Test
    @Timeout(30)
    void bindFailureNamesTheAddress(@org.junit.jupiter.api.io.TempDir java.nio.file.Path otherData) {
        TernBroker b = TernBroker.start(BrokerConfig.defaults().withPort(0));
        try {
            // its own data directory: the same one would be refused first (DataDirLockTest)
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> TernBroker.start(BrokerConfig.defaults().withPort(b.port()).withDataDir(otherData)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("127.0.0.1:" + b.port());
        } finally {
            b.close();
        }
    }
}
