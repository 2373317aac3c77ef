package tern.peers;

import java.util.concurrent.locks.LockSupport;

/**
 * Paces a W4 producer (option {@code --rate}): message i is due at {@code start + i / rate}. Confirm latency is
 * measured from when a message was due, not from when it went out, so a stall's backlog counts against the broker
 * (no coordinated omission). Without a rate the producer goes as fast as its confirm window allows and latency is
 * measured from when the message got a window slot, the same way for every target.
 */
final class Pacer {
    private final long ratePerSec;
    private long startNanos;

    /** @param ratePerSec messages per second, or 0 for unpaced */
    Pacer(long ratePerSec) {
        if (ratePerSec < 0) {
            throw new IllegalArgumentException("rate must be >= 0: " + ratePerSec);
        }
        this.ratePerSec = ratePerSec;
    }

    /** Call once, right before the first message; returns the start (the first message's due time). */
    long start() {
        startNanos = System.nanoTime();
        return startNanos;
    }

    /**
     * Paced: waits until message i is due and returns when that was. The wait parks (no spinning: the harness
     * shares two cores with the broker), so the producer wakes a little late and sends what fell due meanwhile in
     * one burst; that lateness counts in the latency. Unpaced: returns 0 at once.
     */
    long awaitDue(long i) {
        if (ratePerSec == 0) {
            return 0;
        }
        long due = startNanos + (long) (i * (1e9 / ratePerSec));
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
        return due;
    }

    /** The latency origin of a message that just got its window slot: when it was due, or now when unpaced. */
    long origin(long due) {
        return ratePerSec > 0 ? due : System.nanoTime();
    }

    /** For reports: "unpaced" or "paced at N msgs/s". */
    String describe() {
        return ratePerSec == 0 ? "unpaced (as fast as the confirm window allows)" : "paced at " + ratePerSec
                + " msgs/s (latency from when each message was due)";
    }
}
