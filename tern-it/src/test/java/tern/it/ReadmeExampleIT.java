package tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.Connection;
import tern.client.Message;
import tern.client.Subscription;
import tern.client.Tern;
import tern.testkit.BrokerLogGuard;

/** The README's Java example, compiled and run against a real broker; the README must quote it verbatim. */
class ReadmeExampleIT {
    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @Test
    @Timeout(30)
    void readmeExampleRunsAgainstARealBroker() throws Exception {
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0))) {
            assertThat(example(broker.port())).isEqualTo("hello, tern");
        }
    }

    @Test
    @Timeout(10)
    void readmeQuotesTheExampleVerbatim() throws Exception {
        List<String> source = Files.readAllLines(Path.of("src/test/java/tern/it/ReadmeExampleIT.java"));
        int start = source.indexOf("        // README:start");
        int end = source.indexOf("        // README:end");
        assertThat(start).isPositive();
        String example = source.subList(start + 1, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .reduce((a, b) -> a + "\n" + b).orElseThrow();
        String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        assertThat(readme).contains(example);
    }

    static String example(int port) {
        // README:start
        try (Connection conn = Tern.connect("127.0.0.1", port)) {
            Subscription sub = conn.subscribe("greetings.*");
            conn.publish("greetings.world", "hello, tern".getBytes(StandardCharsets.UTF_8));
            Message m = sub.next(Duration.ofSeconds(5));
            System.out.println(m.subject() + ": " + m.payloadAsString());
            return m.payloadAsString();
        }
        // README:end
    }
}
