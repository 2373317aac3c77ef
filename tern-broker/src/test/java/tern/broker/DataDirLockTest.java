package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A data directory serves one broker at a time (a child-process variant is tern-it's DataDirLockIT). */
class DataDirLockTest extends BrokerTestBase {
    @TempDir
    Path tmp;

    @Test
    @Timeout(30)
    void aSecondBrokerOnTheSameDataDirectoryFailsAtStartAndTheFirstKeepsServing() throws Exception {
        Path data = tmp.resolve("data");
        TernBroker first = start(BrokerConfig.defaults().withPort(0).withDataDir(data));
        String pid = Long.toString(ProcessHandle.current().pid());
        assertThat(Files.readString(data.resolve(DataDirLock.FILE)).trim()).isEqualTo(pid);

        assertThatThrownBy(() -> TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(data)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("data directory " + data.toRealPath() + " is in use")
                .hasMessageContaining("another broker in this process (pid " + pid + ")");
        // The same directory by another path is the same directory.
        Path other = tmp.resolve("link");
        Files.createSymbolicLink(other, data);
        assertThatThrownBy(() -> TernBroker.start(BrokerConfig.defaults().withPort(0)
                .withDataDir(other.resolve("..").resolve("link"))))
                .hasMessageContaining("is in use");

        // The refusals left the first broker's lock alone.
        try (RawClient c = RawClient.open(first.port())) {
            c.sync();
        }
        assertThatThrownBy(() -> DataDirLock.acquire(data)).hasMessageContaining("is in use");

        first.close();
        broker = null;
        try (TernBroker second = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(data));
             RawClient c = RawClient.open(second.port())) {
            c.sync();
        }
    }

    @Test
    @Timeout(30)
    void aFailedStartReleasesTheLock() {
        Path data = tmp.resolve("data");
        TernBroker first = start(BrokerConfig.defaults().withPort(0).withDataDir(tmp.resolve("first")));
        // binding the first broker's port fails after the lock was taken: it must be released again
        assertThatThrownBy(() -> TernBroker.start(BrokerConfig.defaults().withPort(first.port()).withDataDir(data)))
                .hasMessageContaining("127.0.0.1:" + first.port());
        assertThat(data.resolve(DataDirLock.FILE)).as("the failed start had taken the lock").exists();
        DataDirLock.acquire(data).close();
    }
}
