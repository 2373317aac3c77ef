package tern.peers;

import org.HdrHistogram.Histogram;

/** One W3 run: round-trip latency percentiles in microseconds. */
record LatencyResult(long roundTrips, double p50Us, double p90Us, double p99Us, double p999Us, double maxUs) {
    static LatencyResult of(Histogram nanos) {
        return new LatencyResult(nanos.getTotalCount(),
                nanos.getValueAtPercentile(50) / 1e3, nanos.getValueAtPercentile(90) / 1e3,
                nanos.getValueAtPercentile(99) / 1e3, nanos.getValueAtPercentile(99.9) / 1e3,
                nanos.getMaxValue() / 1e3);
    }
}
