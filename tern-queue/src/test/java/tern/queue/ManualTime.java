package tern.queue;

import java.util.PriorityQueue;

/** A manual clock and scheduler: tasks run only inside {@link #advance}, on the test's thread, in time order. */
final class ManualTime implements QueueClock, QueueScheduler {
    private record Task(long atMillis, long seq, Runnable run, boolean[] cancelled) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> a.atMillis != b.atMillis
            ? Long.compare(a.atMillis, b.atMillis) : Long.compare(a.seq, b.seq));
    private long now = 1_000_000;
    private long seq;

    @Override
    public synchronized long nowMillis() {
        return now;
    }

    @Override
    public synchronized Cancellable schedule(long delayMillis, Runnable task) {
        boolean[] cancelled = {false};
        tasks.add(new Task(now + Math.max(0, delayMillis), seq++, task, cancelled));
        return () -> {
            synchronized (ManualTime.this) {
                cancelled[0] = true;
            }
        };
    }

    /** Moves time forward by millis, running every task due on the way (including ones they schedule). */
    void advance(long millis) {
        long target;
        synchronized (this) {
            target = now + millis;
        }
        while (true) {
            Task t;
            synchronized (this) {
                t = tasks.peek();
                if (t == null || t.atMillis > target) {
                    now = target;
                    return;
                }
                tasks.poll();
                now = Math.max(now, t.atMillis);
                if (t.cancelled[0]) {
                    continue;
                }
            }
            t.run.run();
        }
    }

    /** Runs the tasks due now (e.g. settling after a confirm). */
    void runDue() {
        advance(0);
    }
}
