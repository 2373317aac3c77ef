package tern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.Connection;
import tern.client.QueueOptions;
import tern.testkit.BrokerProcess;

/**
 * Two brokers in different processes on one data directory: the second fails at start with an error naming the
 * directory and the pid of the broker holding it; the first keeps serving; a SIGKILLed holder frees it.
 */
class DataDirLockIT {
    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void aSecondBrokerProcessCannotShareTheDataDirectory() throws Exception {
        Path data = tmp.resolve("data");
        try (BrokerProcess child = BrokerProcess.start(data, 0, List.of())) {
            try (Connection c = KillNineIT.connect(child.port(), "lock-holder")) {
                c.declareQueue("held", QueueOptions.durableQueue());
            }
            assertThatThrownBy(() -> TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(data)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("data directory " + data.toRealPath() + " is in use")
                    .hasMessageContaining("another broker (pid " + child.pid() + ")");
            try (Connection c = KillNineIT.connect(child.port(), "still-serving")) {
                assertThat(c.listQueues()).extracting(tern.client.QueueInfo::name).contains("held");
            }
            child.kill();
        }

        // SIGKILL released the lock with the process: this JVM's broker takes the directory, a child cannot.
        try (TernBroker inProcess = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(data))) {
            assertThatThrownBy(() -> BrokerProcess.start(data, 0, List.of()).close())
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("exited")
                    .hasMessageContaining("is in use")
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
            try (Connection c = KillNineIT.connect(inProcess.port(), "in-process")) {
                assertThat(c.listQueues()).extracting(tern.client.QueueInfo::name).contains("held");
            }
        }
    }
}
