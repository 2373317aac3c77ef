package tern.client;

/**
 * How a queue consumer receives.
 *
 * @param prefetch most unacknowledged deliveries the server hands this consumer (1..65536); ignored by no-ack queues
 * @param autoAck  the server counts each delivery as acknowledged once it writes it (at-most-once for this
 *                 consumer; {@link Delivery#ack()} is then a no-op, nack and reject report STALE_DELIVERY)
 */
public record ConsumeOptions(int prefetch, boolean autoAck) {
    /** The default prefetch. */
    public static final int DEFAULT_PREFETCH = 256;
    /** The largest prefetch a server accepts by default. */
    public static final int MAX_PREFETCH = 65_536;

    public ConsumeOptions {
        if (prefetch < 1 || prefetch > MAX_PREFETCH) {
            throw new IllegalArgumentException("prefetch " + prefetch + " outside 1.." + MAX_PREFETCH);
        }
    }

    /** Prefetch 256, acknowledged by the application. */
    public static ConsumeOptions defaults() {
        return new ConsumeOptions(DEFAULT_PREFETCH, false);
    }

    public ConsumeOptions withPrefetch(int v) {
        return new ConsumeOptions(v, autoAck);
    }

    public ConsumeOptions withAutoAck(boolean v) {
        return new ConsumeOptions(prefetch, v);
    }
}
