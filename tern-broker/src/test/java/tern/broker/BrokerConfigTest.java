package tern.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.protocol.Limits;

class BrokerConfigTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(10)
    void defaultsAreSafe() {
        BrokerConfig c = BrokerConfig.defaults();
        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(7420);
        assertThat(c.dataDir()).isEqualTo(Path.of("data"));
        assertThat(c.limits()).isEqualTo(Limits.DEFAULT);
        assertThat(c.eventLoopThreads()).isEqualTo(1);
        assertThat(c.queueLimits().maxMemoryBytes()).as("half the heap").isEqualTo(Runtime.getRuntime().maxMemory() / 2);
        assertThat(BrokerConfig.load(null, Map.of(), Map.of())).isEqualTo(c);
    }

    @Test
    @Timeout(10)
    void fileThenEnvironmentThenFlags() throws Exception {
        Path file = dir.resolve("tern.conf");
        Files.writeString(file, "# comment\nport = 1000\nhost = 0.0.0.0\nmax_connections = 10\n"
                + "idle_timeout_ms = 60000\ndata = /var/tern\n");
        BrokerConfig c = BrokerConfig.load(file, Map.of("TERN_PORT", "2000", "TERN_MAX_CONNECTIONS", "20",
                "PATH", "/bin", "TERN_SOMETHING_ELSE", "x"), Map.of("port", "3000"));
        assertThat(c.port()).isEqualTo(3000);
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.limits().maxConnections()).isEqualTo(20);
        assertThat(c.limits().idleTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/tern"));
    }

    @Test
    @Timeout(10)
    void everyKeyIsAccepted() {
        Map<String, String> all = new java.util.HashMap<>();
        for (String k : BrokerConfig.KEYS) {
            all.put(k, switch (k) {
                case "host" -> "localhost";
                case "data" -> "d";
                case "max_frame_bytes" -> "100000";
                case "max_pre_auth_frame_bytes" -> "4096";
                case "max_pending_bytes" -> "1000000";
                case "ping_interval_ms" -> "1000";
                case "idle_timeout_ms" -> "3000";
                case "tls_client_auth" -> "want";
                case "tls_required" -> "false";
                default -> "7";
            });
        }
        BrokerConfig c = BrokerConfig.load(null, Map.of(), all);
        assertThat(c.limits().maxFrameBytes()).isEqualTo(100000);
        assertThat(c.limits().maxSubscriptions()).isEqualTo(7);
        assertThat(c.eventLoopThreads()).isEqualTo(7);
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofMillis(7));
        assertThat(c.tls()).isEqualTo(new tern.broker.tls.TlsConfig(Path.of("7"), Path.of("7"), Path.of("7"),
                tern.broker.tls.TlsConfig.ClientAuth.WANT, false));
        assertThat(c.addressLimits()).isEqualTo(new tern.broker.guard.AddressLimits(7, 7));
        assertThat(c.queueLimits().maxMemoryBytes()).isEqualTo(7);
    }

    @Test
    @Timeout(10)
    void unknownKeyAndBadValuesAreNamed() throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "prot = 1\n");
        assertThatThrownBy(() -> BrokerConfig.load(file, Map.of(), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'prot'")
                .hasMessageContaining(file.toString());
        assertThatThrownBy(() -> BrokerConfig.load(null, Map.of("TERN_PORT", "abc"), Map.of()))
                .hasMessageContaining("'port'").hasMessageContaining("TERN_PORT").hasMessageContaining("abc");
        assertThatThrownBy(() -> BrokerConfig.load(null, Map.of(), Map.of("port", "70000")))
                .hasMessageContaining("70000");
        assertThatThrownBy(() -> BrokerConfig.load(null, Map.of(), Map.of("idle_timeout_ms", "10")))
                .hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> BrokerConfig.load(null, Map.of(), Map.of("bogus", "1")))
                .hasMessageContaining("'bogus'");
        assertThatThrownBy(() -> BrokerConfig.load(null, Map.of("TERN_MAX_QUEUE_MEMORY_BYTES", "0"), Map.of()))
                .hasMessageContaining("maxMemoryBytes 0 must be >= 1");
        long heap = Runtime.getRuntime().maxMemory();
        assertThatThrownBy(() -> BrokerConfig.load(null, Map.of(),
                Map.of("max_queue_memory_bytes", Long.toString(heap + 1))))
                .hasMessageContaining("max_queue_memory_bytes " + (heap + 1) + " exceeds this JVM's max heap " + heap);
    }
}
