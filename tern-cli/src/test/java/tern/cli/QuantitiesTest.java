package tern.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class QuantitiesTest {

    @Test
    void parsesEveryDurationUnit() {
        assertThat(Quantities.duration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Quantities.duration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Quantities.duration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Quantities.duration("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Quantities.duration("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(Quantities.duration("0s")).isEqualTo(Duration.ZERO);
        assertThat(Quantities.duration(" 10S ")).isEqualTo(Duration.ofSeconds(10));
        assertThat(Quantities.duration("365d")).isEqualTo(Quantities.MAX_DURATION);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "10", "ms", "-5s", "1.5s", "5 s", "5sec", "3w", "366d", "8761h",
        "99999999999999999999ms", "1234567890123456789012345678901234s", "s5"})
    void rejectsBadDurations(String text) {
        assertThatThrownBy(() -> Quantities.duration(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duration");
    }

    @Test
    void parsesDecimalAndBinarySizes() {
        assertThat(Quantities.bytes("512")).isEqualTo(512);
        assertThat(Quantities.bytes("512B")).isEqualTo(512);
        assertThat(Quantities.bytes("10KB")).isEqualTo(10_000);
        assertThat(Quantities.bytes("10MB")).isEqualTo(10_000_000);
        assertThat(Quantities.bytes("3gb")).isEqualTo(3_000_000_000L);
        assertThat(Quantities.bytes("64KiB")).isEqualTo(65_536);
        assertThat(Quantities.bytes("10MiB")).isEqualTo(10L << 20);
        assertThat(Quantities.bytes("1GiB")).isEqualTo(1L << 30);
        assertThat(Quantities.bytes("2TiB")).isEqualTo(2L << 40);
        assertThat(Quantities.bytes("1024TiB")).isEqualTo(Quantities.MAX_BYTES);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "MB", "-1", "1.5MB", "10 MB", "10XB", "1025TiB", "99999999999999999999",
        "0x10"})
    void rejectsBadSizes(String text) {
        assertThatThrownBy(() -> Quantities.bytes(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size");
    }
}
