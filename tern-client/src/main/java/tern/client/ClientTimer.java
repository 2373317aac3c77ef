package tern.client;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One daemon timer thread shared by all connections in the JVM: request timeouts and connect
 * watchdogs. Cancelled tasks are removed at once, so finished requests leave nothing behind.
 */
final class ClientTimer {
    private static final ScheduledThreadPoolExecutor TIMER;

    static {
        TIMER = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tern-client-timer");
            t.setDaemon(true);
            return t;
        });
        TIMER.setRemoveOnCancelPolicy(true);
    }

    static ScheduledFuture<?> schedule(Runnable task, long nanos) {
        return TIMER.schedule(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    private ClientTimer() {
    }
}
