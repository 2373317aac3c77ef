package tern.client;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The bounded single-producer (reader thread) single-consumer (dispatch thread) queue of
 * (target, item) pairs. A full ring makes the producer wait, which stops the reader and so exerts
 * TCP backpressure on the server. Allocation-free; parks instead of spinning (2-core machines).
 */
final class DeliveryRing {
    /** Called by the consumer for each pair, in order. */
    interface Handler {
        void handle(Object target, Object item);
    }

    private static final long PARK_NANOS = 50_000_000;

    private final Object[] targets;
    private final Object[] items;
    private final int mask;
    private final AtomicLong head = new AtomicLong();
    private final AtomicLong tail = new AtomicLong();
    private volatile boolean consumerParked;
    private volatile boolean producerParked;
    private volatile Thread consumer;
    private volatile Thread producer;
    private volatile boolean closed;
    private volatile boolean handling;
    private long headCache;

    DeliveryRing(int capacity) {
        int size = capacity <= 1 ? 1 : Integer.highestOneBit(capacity - 1) << 1;
        targets = new Object[size];
        items = new Object[size];
        mask = size - 1;
    }

    int capacity() {
        return targets.length;
    }

    /** Producer only. Waits while full; false when the ring is closed (the pair is dropped). Wakes the consumer. */
    boolean offer(Object target, Object item) {
        if (!offerLazily(target, item)) {
            return false;
        }
        signal();
        return true;
    }

    /**
     * Like {@link #offer} but leaves a parked consumer parked until {@link #signal()}: the reader queues
     * a whole read buffer of messages and wakes the dispatch thread once (an unpark per message cost
     * the reader a sixth of its time in profiles), and the dispatch thread then finds a batch.
     */
    boolean offerLazily(Object target, Object item) {
        long t = tail.get();
        if (t - headCache >= targets.length) {
            headCache = head.get();
            while (t - headCache >= targets.length) {
                if (closed) {
                    return false;
                }
                signal(); // a consumer parked on lazily offered pairs must run before we wait for it
                producer = Thread.currentThread();
                producerParked = true;
                headCache = head.get();
                if (t - headCache < targets.length) {
                    producerParked = false;
                    break;
                }
                LockSupport.parkNanos(this, PARK_NANOS);
                producerParked = false;
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                headCache = head.get();
            }
        }
        if (closed) {
            return false;
        }
        int i = (int) (t & mask);
        targets[i] = target;
        items[i] = item;
        tail.set(t + 1);
        return true;
    }

    /** Producer only: wakes the consumer if it is parked (after {@link #offerLazily}). */
    void signal() {
        if (consumerParked) {
            consumerParked = false;
            LockSupport.unpark(consumer);
        }
    }

    /** True when the ring would make the producer wait now (producer only). */
    boolean isFull() {
        return tail.get() - head.get() >= targets.length;
    }

    /** Consumer loop: hands every pair to handler until closed. */
    void consume(Handler handler) {
        consumer = Thread.currentThread();
        long h = head.get();
        while (!closed) {
            if (h == tail.get()) {
                consumerParked = true;
                if (h == tail.get() && !closed) {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
                consumerParked = false;
                continue;
            }
            int i = (int) (h & mask);
            Object target = targets[i];
            Object item = items[i];
            targets[i] = null;
            items[i] = null;
            handling = true;
            head.set(++h);
            if (producerParked) {
                producerParked = false;
                LockSupport.unpark(producer);
            }
            try {
                handler.handle(target, item);
            } finally {
                handling = false;
            }
        }
    }

    /**
     * Hands what is still queued to handler, after the consumer loop has stopped (or from inside it).
     * Used on close so that listener events queued before it are not lost.
     */
    void drainRemaining(Handler handler) {
        long h = head.get();
        long t = tail.get();
        for (; h < t; h++) {
            int i = (int) (h & mask);
            Object target = targets[i];
            Object item = items[i];
            targets[i] = null;
            items[i] = null;
            head.set(h + 1);
            handler.handle(target, item);
        }
    }

    /** True when nothing is queued or being handled. */
    boolean isIdle() {
        return !handling && head.get() == tail.get();
    }

    /** Stops the consumer after its current pair and releases a waiting producer; queued pairs are dropped. */
    void close() {
        closed = true;
        Thread c = consumer;
        if (c != null) {
            LockSupport.unpark(c);
        }
        Thread p = producer;
        if (p != null) {
            LockSupport.unpark(p);
        }
    }
}
