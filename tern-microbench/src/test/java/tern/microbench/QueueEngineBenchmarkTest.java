package tern.microbench;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Runs the benchmark's cycle briefly for every parameter, and checks that a refused publish fails the run. */
class QueueEngineBenchmarkTest {

    @ParameterizedTest
    @CsvSource({"1, true", "64, true", "1, false", "64, false"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyPublishIsConfirmedDeliveredAndAcked(int batch, boolean durable) throws Exception {
        QueueEngineBenchmark bench = new QueueEngineBenchmark();
        bench.batch = batch;
        bench.durable = durable;
        bench.setup();
        // Past the confirm window and the backlog bound, so the producer has to wait for both.
        int calls = 2 * QueueEngineBenchmark.BACKLOG / QueueEngineBenchmark.MESSAGES + 1;
        long messages = (long) calls * QueueEngineBenchmark.MESSAGES;
        try {
            for (int i = 1; i <= calls; i++) {
                assertThat(bench.publish()).isEqualTo((long) i * QueueEngineBenchmark.MESSAGES);
            }
            bench.drain();
            var info = bench.engine().info(QueueEngineBenchmark.QUEUE);
            assertThat(info.published()).isEqualTo(messages);
            assertThat(info.acked()).isEqualTo(messages);
            assertThat(info.depth()).isZero();
            assertThat(info.options().durable()).isEqualTo(durable);
        } finally {
            bench.tearDown();
        }
        assertThat(bench.directory()).doesNotExist();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aRefusedPublishFailsTheRun() throws Exception {
        QueueEngineBenchmark bench = new QueueEngineBenchmark();
        bench.batch = 64;
        bench.durable = true;
        bench.setup();
        try {
            bench.publish();
            bench.drain();
            // The delete also cancels the consumer, which would fail the run on its own: expected here, so that
            // only publish's own check of the refusal can fail it.
            bench.stopping = true;
            bench.engine().delete(QueueEngineBenchmark.QUEUE);
            assertThatThrownBy(bench::publish).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("refused: QUEUE_NOT_FOUND");
            assertThatThrownBy(bench::drain).isInstanceOf(IllegalStateException.class);
        } finally {
            bench.tearDown();
        }
        assertThat(bench.directory()).doesNotExist();
    }
}
