package tern.broker.queue;

import java.util.ArrayList;

/**
 * Batches of SENDs whose outcome (durable with a CONFIRM to write, or failed) was reported on a storage thread,
 * queued for the connection's event loop. Multi-producer, single consumer: the loop swaps the list out under the lock
 * and writes it without it, so one group commit becomes one hand-over and one flush. Bounded by the client: each
 * entry holds outstanding SENDs of this connection, and a client bounds those (maxUnconfirmed).
 */
final class Outcomes {
    private ArrayList<SendBatch> queued = new ArrayList<>();
    private boolean scheduled;

    /** Adds one batch; true when the caller must schedule a drain (the queue was idle). */
    synchronized boolean add(SendBatch batch) {
        queued.add(batch);
        if (scheduled) {
            return false;
        }
        scheduled = true;
        return true;
    }

    /** Loop only: swaps the queued batches with {@code into} (which must be empty) and clears the scheduled mark. */
    synchronized ArrayList<SendBatch> swap(ArrayList<SendBatch> into) {
        ArrayList<SendBatch> out = queued;
        queued = into;
        scheduled = false;
        return out;
    }
}
