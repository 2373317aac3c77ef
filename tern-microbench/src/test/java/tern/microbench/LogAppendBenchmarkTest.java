package tern.microbench;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls every {@code @Benchmark} method once per policy so that the benchmark cannot silently rot. */
class LogAppendBenchmarkTest {

    @ParameterizedTest
    @ValueSource(strings = {"ALWAYS", "NEVER"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyBenchmarkMethodRuns(String sync) throws Exception {
        LogAppendBenchmark bench = new LogAppendBenchmark();
        bench.sync = sync;
        bench.recordBytes = 1024;
        bench.setup();
        try {
            assertThat(bench.append()).isZero();
            assertThat(bench.appendBatch()).isEqualTo(LogAppendBenchmark.BATCH);
            bench.log().durable(LogAppendBenchmark.BATCH).get(10, TimeUnit.SECONDS);
            assertThat(bench.log().endOffset()).isEqualTo(1 + LogAppendBenchmark.BATCH);
        } finally {
            bench.tearDown();
        }
    }
}
