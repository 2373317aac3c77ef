package tern.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(5)
class ServerAddressTest {
    @Test
    void parsesHostAndPort() {
        assertThat(ServerAddress.parse("127.0.0.1:7420")).isEqualTo(new ServerAddress("127.0.0.1", 7420));
        assertThat(ServerAddress.parse("broker.example:1")).isEqualTo(new ServerAddress("broker.example", 1));
    }

    @Test
    void parsesBracketedIpv6() {
        ServerAddress a = ServerAddress.parse("[::1]:7420");
        assertThat(a).isEqualTo(new ServerAddress("::1", 7420));
        assertThat(a.toString()).isEqualTo("[::1]:7420");
    }

    @Test
    void defaultIsLoopback7420() {
        assertThat(ServerAddress.parse(ServerAddress.DEFAULT)).isEqualTo(new ServerAddress("127.0.0.1", 7420));
    }

    @Test
    void rejectsMalformedAddresses() {
        for (String bad : new String[] {"", "host", "host:", ":7420", "host:0", "host:65536", "host:x"}) {
            assertThatThrownBy(() -> ServerAddress.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
