package tern.broker.queue;

/**
 * Publish outcomes (confirms and refusals) reported from storage threads, queued for the connection's event loop.
 * Multi-producer, single consumer (the loop swaps the arrays out under the lock and writes them without it), so
 * one group commit becomes one hand-over and one flush. Unbounded only in name: each entry is an outstanding SEND
 * of this connection, and a client bounds those (maxUnconfirmed).
 */
final class Outcomes {
    private int[] ids = new int[64];
    private long[] offsets = new long[64];
    private byte[] kinds = new byte[64];
    private Object[] errors = new Object[64];
    private int size;
    private boolean scheduled;

    static final byte FSYNCED = 1;
    static final byte WRITTEN = 2;
    static final byte FAILED = 3;

    /** Adds one outcome; true when the caller must schedule a drain (the queue was idle). */
    synchronized boolean add(int id, long offset, byte kind, Object error) {
        if (size == ids.length) {
            int n = size * 2;
            ids = java.util.Arrays.copyOf(ids, n);
            offsets = java.util.Arrays.copyOf(offsets, n);
            kinds = java.util.Arrays.copyOf(kinds, n);
            errors = java.util.Arrays.copyOf(errors, n);
        }
        ids[size] = id;
        offsets[size] = offset;
        kinds[size] = kind;
        errors[size] = error;
        size++;
        if (scheduled) {
            return false;
        }
        scheduled = true;
        return true;
    }

    /** Loop only: the batch taken out; reusable arrays handed back next time. */
    static final class Batch {
        int[] ids = new int[64];
        long[] offsets = new long[64];
        byte[] kinds = new byte[64];
        Object[] errors = new Object[64];
        int size;
    }

    /** Swaps the queued outcomes into batch (whose arrays become the queue's) and clears the scheduled mark. */
    synchronized void takeInto(Batch batch) {
        int[] i = ids;
        long[] o = offsets;
        byte[] k = kinds;
        Object[] e = errors;
        ids = batch.ids;
        offsets = batch.offsets;
        kinds = batch.kinds;
        errors = batch.errors;
        batch.ids = i;
        batch.offsets = o;
        batch.kinds = k;
        batch.errors = e;
        batch.size = size;
        size = 0;
        scheduled = false;
    }
}
