package tern.client;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link QueueConsumer} of a {@link TernConnection}; state shared by the caller, reader and dispatch threads. */
final class TernQueueConsumer implements QueueConsumer {
    /** Pull consumers of auto-ack consumers (not bounded by prefetch) hold at least this many deliveries. */
    static final int MIN_PULL_CAPACITY = 1024;
    /** Wakes blocked {@link #next} callers once the consumer is closed. */
    private static final Delivery END = new TernDelivery(null, 0, 0, 0, null, 0, "", java.util.Map.of(), new byte[0]);

    final TernQueues queues;
    final int id;
    private final String queue;
    final ConsumeOptions options;
    final DeliveryHandler handler;
    /** Pull consumers only; bounded (the reader waits when full: TCP backpressure). */
    final LinkedBlockingQueue<Delivery> pulled;
    volatile boolean active = true;

    TernQueueConsumer(TernQueues queues, int id, String queue, ConsumeOptions options, DeliveryHandler handler) {
        this.queues = queues;
        this.id = id;
        this.queue = queue;
        this.options = options;
        this.handler = handler;
        this.pulled = handler == null ? new LinkedBlockingQueue<>(options.autoAck()
                ? Math.max(MIN_PULL_CAPACITY, options.prefetch()) : options.prefetch() + 1) : null;
    }

    @Override
    public String queue() {
        return queue;
    }

    @Override
    public Delivery next(Duration timeout) {
        if (pulled == null) {
            throw new IllegalStateException("next() is for pull consumers; consumer " + id + " has a handler");
        }
        try {
            Delivery d = active ? pulled.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS) : pulled.poll();
            if (d == END) {
                pulled.offer(END);
                return null;
            }
            return d;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted in next()");
        }
    }

    /** Dispatch thread: runs the handler. */
    void handle(Delivery d) throws Exception {
        if (active) {
            handler.onDelivery(d);
        }
    }

    /** Ends the consumer locally and wakes pull waiters. */
    void end() {
        active = false;
        if (pulled != null) {
            pulled.clear();
            pulled.offer(END);
        }
    }

    @Override
    public void close() {
        queues.cancel(this);
    }

    @Override
    public String toString() {
        return "QueueConsumer[" + id + " " + queue + (handler == null ? " pull" : " push") + "]";
    }
}
