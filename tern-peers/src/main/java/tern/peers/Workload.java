package tern.peers;

import java.util.Locale;

/** The workloads of shared/PEERS.md, with their default sizes. */
enum Workload {
    W1("pub/sub 1->1, 128 B", 1_000_000, 128),
    W2("fan-out 1->4, 128 B", 500_000, 128),
    W3("request/reply 64 B, sequential", 100_000, 64),
    W4("durable 1 KiB, confirms + acks", 200_000, 1024);

    /** W3's in-run warm-up round trips per 100,000 measured. */
    static final int W3_WARMUP_PER_100K = 20_000;
    /** W2's subscriber count. */
    static final int W2_SUBSCRIBERS = 4;

    final String title;
    final int defaultMessages;
    final int payloadBytes;

    Workload(String title, int defaultMessages, int payloadBytes) {
        this.title = title;
        this.defaultMessages = defaultMessages;
        this.payloadBytes = payloadBytes;
    }

    /** Message count when W1 is given w1Messages (defaults keep PEERS.md's ratios 10 : 5 : 1 : 2). */
    int messages(long w1Messages) {
        return (int) Math.max(1, w1Messages * defaultMessages / W1.defaultMessages);
    }

    static Workload parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
}
