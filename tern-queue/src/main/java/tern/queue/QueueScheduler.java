package tern.queue;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The engine's only source of timers (ack timeouts, TTL, nack delays, queue expiry, housekeeping) and of deferred
 * work (settling a message once its dead-letter copy is confirmed). Tasks may run on any thread; the engine takes
 * the queue's lock inside them. Tests inject a manual scheduler driven by a manual clock.
 */
@FunctionalInterface
public interface QueueScheduler {

    /** A scheduled task that can be cancelled (a no-op if it already ran). */
    interface Cancellable {
        void cancel();
    }

    /** Runs task once after delayMillis (0: soon, never on the calling thread's stack). */
    Cancellable schedule(long delayMillis, Runnable task);

    /**
     * Adapts an executor, e.g. a Netty event loop group or a single-thread scheduled executor. A task that throws is
     * logged (an executor would keep the throwable in a future nobody reads).
     */
    static QueueScheduler of(ScheduledExecutorService executor) {
        return (delayMillis, task) -> {
            ScheduledFuture<?> f = executor.schedule(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    System.getLogger("tern.queue").log(System.Logger.Level.ERROR, "queue engine task failed", t);
                    throw t;
                }
            }, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        };
    }
}
