package tern.peers;

import org.HdrHistogram.Histogram;

/**
 * One W4 run. endToEndPerSec = consumed / (last consumer ack - first publish); confirm latency is
 * publish call to confirm callback, per message.
 */
record DurableResult(long produced, long confirmed, long nacked, long consumed, double endToEndPerSec,
                     double confirmP50Us, double confirmP99Us, double confirmMaxUs) {
    static DurableResult of(long produced, long confirmed, long nacked, long consumed, long firstPublishNanos,
                            long lastConsumedNanos, Histogram confirmNanos) {
        double seconds = Math.max(1, lastConsumedNanos - firstPublishNanos) / 1e9;
        return new DurableResult(produced, confirmed, nacked, consumed, consumed / seconds,
                confirmNanos.getValueAtPercentile(50) / 1e3, confirmNanos.getValueAtPercentile(99) / 1e3,
                confirmNanos.getMaxValue() / 1e3);
    }

    long lost() {
        return produced - consumed;
    }
}
