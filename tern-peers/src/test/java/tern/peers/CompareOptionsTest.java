package tern.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class CompareOptionsTest {
    @Test
    @Timeout(5)
    void defaultsMatchPeersMd() {
        Compare.Options o = Compare.Options.parse(new String[0]);
        assertThat(o.workloads).containsExactly(Workload.W1, Workload.W2, Workload.W3);
        assertThat(o.targets).containsExactly("tern", "nats");
        assertThat(o.runs).isEqualTo(3);
        assertThat(o.warmupRuns).isEqualTo(1);
        assertThat(Workload.W1.messages(o.w1Messages)).isEqualTo(1_000_000);
        assertThat(Workload.W2.messages(o.w1Messages)).isEqualTo(500_000);
        assertThat(Workload.W3.messages(o.w1Messages)).isEqualTo(100_000);
        assertThat(Workload.W4.messages(o.w1Messages)).isEqualTo(200_000);
        assertThat(o.inFlight).isEqualTo(1000);
        assertThat(o.rate).isZero();
    }

    @Test
    @Timeout(5)
    void rateIsParsedAndBounded() {
        assertThat(Compare.Options.parse(new String[] {"--rate", "150,000"}).rate).isEqualTo(150_000);
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--rate", "-1"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--rate");
    }

    @Test
    @Timeout(5)
    void aPacerReleasesMessageIAtItsDueTimeAndMeasuresFromIt() {
        Pacer unpaced = new Pacer(0);
        unpaced.start();
        assertThat(unpaced.awaitDue(1_000_000)).isZero();
        long before = System.nanoTime();
        assertThat(unpaced.origin(0)).isGreaterThanOrEqualTo(before);

        Pacer p = new Pacer(1000); // one message per millisecond
        p.start();
        long first = p.awaitDue(0);
        long fiftieth = p.awaitDue(50);
        assertThat(fiftieth - first).isEqualTo(50_000_000L);
        assertThat(System.nanoTime()).isGreaterThanOrEqualTo(fiftieth);
        assertThat(p.origin(fiftieth)).isEqualTo(fiftieth);
        assertThatThrownBy(() -> new Pacer(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @Timeout(5)
    void settleAndTimelineOptions() {
        assertThat(Compare.Options.parse(new String[0]).settleSeconds).isEqualTo(2);
        assertThat(Compare.Options.parse(new String[0]).timelineDir).isNull();
        Compare.Options o = Compare.Options.parse(new String[] {"--settle-seconds", "5", "--timeline=/tmp/tl"});
        assertThat(o.settleSeconds).isEqualTo(5);
        assertThat(o.timelineDir).hasToString("/tmp/tl");
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--settle-seconds", "-1"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--settle-seconds");
    }

    @Test
    @Timeout(5)
    void confirmLatencySplitsTheStartFromTheSettledRunAndKeepsTheWorstPer10Ms() {
        ConfirmLatency l = new ConfirmLatency(2_000_000_000L);
        long start = 1_000_000_000L;
        l.start(start);
        l.record(start, start + 300_000_000L);                           // due at 0 ms: 300 ms, start-up only
        l.record(start + 5_000_000L, start + 6_000_000L);                 // 0-10 ms bucket: 1 ms
        l.record(start + 2_000_000_000L, start + 2_004_000_000L);         // due at 2 s: 4 ms, settled
        l.record(start + 2_001_000_000L, start + 2_003_000_000L);         // same bucket: 2 ms
        assertThat(l.all().getTotalCount()).isEqualTo(4);
        assertThat(l.all().getMaxValue()).isCloseTo(300_000_000L, org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(l.settled().getTotalCount()).isEqualTo(2);
        assertThat(l.settled().getMaxValue()).isCloseTo(4_000_000L, org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(l.startEpochMillis()).isCloseTo(System.currentTimeMillis() - (System.nanoTime() - start) / 1_000_000,
                org.assertj.core.data.Offset.offset(50L));
        long[] t = l.timeline();
        assertThat(t).hasSize(201);
        assertThat(t[0]).isEqualTo(300_000_000L);
        assertThat(t[1]).isZero();
        assertThat(t[200]).isEqualTo(4_000_000L);
    }

    @Test
    @Timeout(5)
    void smallerMsgsKeepsTheRatios() {
        Compare.Options o = Compare.Options.parse(new String[] {"--msgs", "100000"});
        assertThat(Workload.W2.messages(o.w1Messages)).isEqualTo(50_000);
        assertThat(Workload.W3.messages(o.w1Messages)).isEqualTo(10_000);
        assertThat(Workload.W4.messages(o.w1Messages)).isEqualTo(20_000);
    }

    @Test
    @Timeout(5)
    void parsesBothOptionForms() {
        Compare.Options o = Compare.Options.parse(new String[] {"--workloads=w4,W1", "--targets", "nats,rabbitmq,nats",
            "--runs=5", "--tern-broker-args", " --event_loop_threads=2  --max_pending_bytes=1 ", "--run-timeout-seconds=9"});
        assertThat(o.workloads).containsExactly(Workload.W4, Workload.W1);
        assertThat(o.targets).containsExactly("nats", "rabbitmq");
        assertThat(o.runs).isEqualTo(5);
        assertThat(o.ternBrokerArgs).isEqualTo(List.of("--event_loop_threads=2", "--max_pending_bytes=1"));
        assertThat(o.runTimeout).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    @Timeout(5)
    void rejectsWhatItCannotRun() {
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--targets", "kafka"}))
                .hasMessageContaining("unknown target kafka");
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--workloads", "W5"}))
                .hasMessageContaining("unknown workload W5");
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--runs", "0"}))
                .hasMessageContaining("at least 1");
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--msgs"})).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> Compare.Options.parse(new String[] {"--bogus", "1"}))
                .hasMessageContaining("unknown option --bogus");
    }

    @Test
    @Timeout(5)
    void medianAndRates() {
        assertThat(Stats.median(List.of(3.0, 1.0, 2.0), d -> d)).isEqualTo(2.0);
        assertThat(Stats.median(List.of(4.0, 1.0, 2.0, 3.0), d -> d)).isEqualTo(2.5);
        assertThat(Compare.rate(1_490_000)).isEqualTo("1.49M");
        assertThat(Compare.rate(118_765)).isEqualTo("119k");
        assertThat(Compare.rate(2_493)).isEqualTo("2.5k");
        assertThat(Compare.rate(999)).isEqualTo("999");
    }

    @Test
    @Timeout(5)
    void deliveryCounterCountsAndTimesTheLastExpectedMessage() {
        DeliveryCounter c = new DeliveryCounter(3, 128);
        c.accept(128);
        c.accept(127);
        assertThat(c.done()).isFalse();
        assertThat(c.lastNanos()).isZero();
        long before = System.nanoTime();
        c.accept(128);
        assertThat(c.done()).isTrue();
        assertThat(c.count()).isEqualTo(3);
        assertThat(c.wrongSize()).isEqualTo(1);
        assertThat(c.lastNanos()).isGreaterThanOrEqualTo(before);
    }
}
