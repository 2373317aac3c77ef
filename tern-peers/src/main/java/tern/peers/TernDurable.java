package tern.peers;

import java.time.Duration;

/**
 * W4 SLOT FOR TERN: durable queues are being built; this target is not measured until the queue
 * client API exists. The integrator fills in {@link #run} with the same shape as {@link RabbitDurable}
 * and {@link JetStreamDurable}: a fresh durable queue per run, a producer with at most maxInFlight
 * unconfirmed publishes (confirm latency recorded per message), one consumer acking each message,
 * then delete the queue; and states in {@link #fsyncBeforeConfirm} what Tern does. Until then
 * {@link #run} throws {@link NotMeasuredException} and the report says "not measured".
 */
final class TernDurable implements DurableTarget {
    private final TernServer server;

    TernDurable(TernServer server) {
        this.server = server;
    }

    @Override
    public String name() {
        return "tern";
    }

    @Override
    public String fsyncBeforeConfirm() {
        return "to be stated with the queue client API (MISSION: fsync before confirm)";
    }

    @Override
    public String settings() {
        return "not wired: Tern durable-queue client API not available yet (slot tern.peers.TernDurable#run)";
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public DurableResult run(int messages, int payloadBytes, int maxInFlight, Duration timeout) {
        throw new NotMeasuredException("Tern durable-queue client API not wired into"
                + " tern.peers.TernDurable#run yet");
    }

    /** A target that cannot be measured yet; reported as such, never as a number. */
    static final class NotMeasuredException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotMeasuredException(String message) {
            super(message);
        }
    }
}
