package tern.peers;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/** Waiting for a counter filled by client threads: to a target, a stall, or a deadline. */
final class Progress {
    private Progress() {
    }

    /**
     * Returns the count once it reaches target, or once it has not moved for stall (the caller reports
     * the shortfall); throws TimeoutException when deadlineNanos passes while it is still moving.
     */
    static long await(LongSupplier count, long target, Duration stall, long deadlineNanos, String what)
            throws TimeoutException {
        long last = -1;
        long lastProgress = System.nanoTime();
        while (true) {
            long n = count.getAsLong();
            long now = System.nanoTime();
            if (n >= target) {
                return n;
            }
            if (n != last) {
                last = n;
                lastProgress = now;
            } else if (now - lastProgress > stall.toNanos()) {
                return n;
            }
            if (now > deadlineNanos) {
                throw new TimeoutException(what + ": " + n + " of " + target + " before the run deadline");
            }
            LockSupport.parkNanos(200_000); // end times are taken by the client threads, not by this poll
        }
    }
}
