package tern.broker.session;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import tern.protocol.ErrorCode;

/** The broker's counters, shared by all event loops. Hot-path counts are added once per burst. */
public final class Counters {
    final AtomicInteger connections = new AtomicInteger();
    final LongAdder connectionsAccepted = new LongAdder();
    final LongAdder connectionsRejected = new LongAdder();
    final AtomicInteger subscriptions = new AtomicInteger();
    final LongAdder msgsIn = new LongAdder();
    final LongAdder msgsOut = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder slowConsumerDrops = new LongAdder();
    final LongAdder slowConsumerDisconnects = new LongAdder();
    /** Times a publisher's reads were paused for a subscriber's backlog (flow control). */
    final LongAdder publisherThrottles = new LongAdder();
    final AtomicLong pendingBytesHighWater = new AtomicLong();
    final AtomicLong waitingBytesHighWater = new AtomicLong();
    private final AtomicLongArray errors = new AtomicLongArray(ErrorCode.values().length);

    void error(ErrorCode code) {
        errors.incrementAndGet(code.ordinal());
    }

    static void max(AtomicLong highWater, long value) {
        long seen = highWater.get();
        while (value > seen && !highWater.compareAndSet(seen, value)) {
            seen = highWater.get();
        }
    }

    public long publisherThrottles() {
        return publisherThrottles.sum();
    }

    public int connections() {
        return connections.get();
    }

    public long connectionsAccepted() {
        return connectionsAccepted.sum();
    }

    public long connectionsRejected() {
        return connectionsRejected.sum();
    }

    public int subscriptions() {
        return subscriptions.get();
    }

    public long msgsIn() {
        return msgsIn.sum();
    }

    public long msgsOut() {
        return msgsOut.sum();
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    public long slowConsumerDrops() {
        return slowConsumerDrops.sum();
    }

    public long slowConsumerDisconnects() {
        return slowConsumerDisconnects.sum();
    }

    public long pendingBytesHighWater() {
        return pendingBytesHighWater.get();
    }

    public long waitingBytesHighWater() {
        return waitingBytesHighWater.get();
    }

    /** ERROR frames sent, by code; codes never sent are absent. */
    public Map<ErrorCode, Long> errors() {
        Map<ErrorCode, Long> m = new EnumMap<>(ErrorCode.class);
        for (ErrorCode c : ErrorCode.values()) {
            long n = errors.get(c.ordinal());
            if (n > 0) {
                m.put(c, n);
            }
        }
        return m;
    }
}
