package tern.cli.bench;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on stderr, redrawn by a daemon thread a few times a second. Disabled
 * unless stderr is a terminal or --progress was given, so piped output stays clean.
 */
final class Progress {
    private static final long REDRAW_MILLIS = 200;
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final Thread thread;
    private final String label;
    private final long total;
    private final LongSupplier done;
    private volatile boolean stopped;

    /** The bar that draws nothing. */
    private static final Progress NONE = new Progress(null, "", 1, () -> 0);

    private Progress(PrintWriter err, String label, long total, LongSupplier done) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
        this.done = done;
        this.thread = new Thread(this::loop, "tern-bench-progress");
        this.thread.setDaemon(true);
    }

    /** Starts a bar, or returns a no-op when disabled. */
    static Progress start(boolean enabled, PrintWriter err, String label, long total, LongSupplier done) {
        if (!enabled || total <= 0) {
            return NONE;
        }
        Progress p = new Progress(err, label, total, done);
        p.thread.start();
        return p;
    }

    private void loop() {
        while (!stopped) {
            draw();
            try {
                Thread.sleep(REDRAW_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void draw() {
        long d = Math.min(done.getAsLong(), total);
        int filled = (int) (d * WIDTH / total);
        StringBuilder bar = new StringBuilder(WIDTH + 64).append('\r').append(label).append(" [");
        for (int i = 0; i < WIDTH; i++) {
            bar.append(i < filled ? '#' : '.');
        }
        bar.append("] ").append(String.format("%3d%% %,d/%,d", d * 100 / total, d, total));
        synchronized (err) {
            err.print(bar);
            err.flush();
        }
    }

    /** Stops and erases the bar. */
    void stop() {
        if (this == NONE) {
            return;
        }
        stopped = true;
        thread.interrupt();
        try {
            thread.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (err) {
            // erase the bar so the results start on a clean line
            err.print("\r\033[K");
            err.flush();
        }
    }
}
