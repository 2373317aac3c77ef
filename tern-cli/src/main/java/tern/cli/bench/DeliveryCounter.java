package tern.cli.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import tern.client.Message;
import tern.client.MessageHandler;

/**
 * Counts deliveries to one subscription without allocating. Single writer: the client calls a
 * subscription's handler from one dispatch thread; other threads only read.
 */
final class DeliveryCounter implements MessageHandler {
    private static final VarHandle COUNT;
    private static final VarHandle LAST_NANOS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            COUNT = lookup.findVarHandle(DeliveryCounter.class, "count", long.class);
            LAST_NANOS = lookup.findVarHandle(DeliveryCounter.class, "lastNanos", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int expectedBytes;
    private final long target;
    @SuppressWarnings("unused") // accessed through COUNT
    private long count;
    @SuppressWarnings("unused") // accessed through LAST_NANOS
    private long lastNanos;
    private long wrongSize;

    DeliveryCounter(int expectedBytes, long target) {
        this.expectedBytes = expectedBytes;
        this.target = target;
    }

    @Override
    public void onMessage(Message message) {
        if (message.payload().length != expectedBytes) {
            wrongSize++;
        }
        long n = (long) COUNT.get(this) + 1;
        if (n == target) {
            LAST_NANOS.setRelease(this, System.nanoTime());
        }
        COUNT.setRelease(this, n);
    }

    long count() {
        return (long) COUNT.getAcquire(this);
    }

    /** System.nanoTime() of the target-th delivery, 0 until then; read after count(). */
    long lastNanos() {
        return (long) LAST_NANOS.getAcquire(this);
    }

    /** Deliveries whose payload was not the size sent; read once counting has stopped. */
    long wrongSize() {
        VarHandle.acquireFence();
        return wrongSize;
    }
}
