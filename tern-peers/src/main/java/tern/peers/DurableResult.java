package tern.peers;

import org.HdrHistogram.Histogram;

/**
 * One W4 run. endToEndPerSec = consumed / (last consumer ack - first publish); confirm latency is from each
 * message's latency origin ({@link Pacer#origin}) to its confirm callback. settledP99Us leaves out messages due in
 * the run's first seconds (option --settle-seconds; NaN when the run was shorter); timelineNanos is the worst
 * latency per 10 ms of origin time ({@link ConfirmLatency}), from startEpochMillis.
 */
record DurableResult(long produced, long confirmed, long nacked, long consumed, double endToEndPerSec,
                     double confirmP50Us, double confirmP99Us, double confirmMaxUs, double settledP99Us,
                     long[] timelineNanos, long startEpochMillis) {
    static DurableResult of(long produced, long confirmed, long nacked, long consumed, long firstPublishNanos,
                            long lastConsumedNanos, ConfirmLatency latency) {
        double seconds = Math.max(1, lastConsumedNanos - firstPublishNanos) / 1e9;
        Histogram all = latency.all();
        Histogram settled = latency.settled();
        return new DurableResult(produced, confirmed, nacked, consumed, consumed / seconds,
                all.getValueAtPercentile(50) / 1e3, all.getValueAtPercentile(99) / 1e3, all.getMaxValue() / 1e3,
                settled.getTotalCount() == 0 ? Double.NaN : settled.getValueAtPercentile(99) / 1e3,
                latency.timeline(), latency.startEpochMillis());
    }

    long lost() {
        return produced - consumed;
    }
}
