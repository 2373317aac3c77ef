package tern.cli.bench;

/**
 * The whole-system workloads {@code tern bench} runs; defaults are the house workloads. The default
 * warm-ups are large on purpose: in a fresh JVM (broker and clients together) the publish, route and
 * read paths need a few million messages before C2 has compiled them, and an unwarmed first run
 * measured 4-6x below the steady state on a loaded 2-core machine.
 */
public enum Workload {
    /** One publisher, one subscriber: delivered msgs/s at the subscriber and published msgs/s. */
    PUBSUB(1_000_000, 128, 2_000_000, 1),
    /** One publisher, K subscribers on separate connections: aggregate deliveries/s. */
    FANOUT(500_000, 128, 1_000_000, 4),
    /** Sequential request/reply round trips: rate and latency percentiles. */
    REQREP(100_000, 64, 20_000, 1),
    /** One producer with publisher confirms into a durable queue, K consumers acking: confirmed and acked msgs/s. */
    QUEUE(200_000, 1024, 50_000, 1);

    final long defaultMsgs;
    final int defaultSize;
    final long defaultWarmup;
    final int defaultSubs;

    Workload(long defaultMsgs, int defaultSize, long defaultWarmup, int defaultSubs) {
        this.defaultMsgs = defaultMsgs;
        this.defaultSize = defaultSize;
        this.defaultWarmup = defaultWarmup;
        this.defaultSubs = defaultSubs;
    }

    /** Default warm-up before runs of msgs: the house figure, at most twice msgs for pubsub and fanout (small runs stay quick). */
    long defaultWarmup(long msgs) {
        return this == REQREP ? defaultWarmup : Math.min(defaultWarmup, 2 * msgs);
    }

    /** The lower-case name used on the command line and in RESULT lines. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
