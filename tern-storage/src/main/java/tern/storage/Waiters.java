package tern.storage;

/**
 * Durability callbacks waiting for the sync thread, kept sorted by offset in a growable ring (no allocation per
 * callback once grown). Not thread-safe: the log guards it with its lock.
 */
final class Waiters {

    private long[] offsets = new long[256];
    private DurabilityCallback[] callbacks = new DurabilityCallback[256];
    private int head;
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** Adds a waiter; O(1) when offsets arrive in order, as they do from the single writer. */
    void add(long offset, DurabilityCallback callback) {
        if (size == offsets.length) {
            grow();
        }
        int mask = offsets.length - 1;
        int i = size;
        while (i > 0 && offsets[(head + i - 1) & mask] > offset) {
            offsets[(head + i) & mask] = offsets[(head + i - 1) & mask];
            callbacks[(head + i) & mask] = callbacks[(head + i - 1) & mask];
            i--;
        }
        offsets[(head + i) & mask] = offset;
        callbacks[(head + i) & mask] = callback;
        size++;
    }

    /**
     * Removes up to {@code outOffsets.length} waiters with offset {@code < limit} (all if {@code limit} is
     * {@link Long#MAX_VALUE}) into the given arrays, oldest first.
     *
     * @return how many were removed
     */
    int drainBelow(long limit, long[] outOffsets, DurabilityCallback[] outCallbacks) {
        int mask = offsets.length - 1;
        int n = 0;
        while (size > 0 && n < outOffsets.length && offsets[head] < limit) {
            outOffsets[n] = offsets[head];
            outCallbacks[n] = callbacks[head];
            callbacks[head] = null;
            head = (head + 1) & mask;
            size--;
            n++;
        }
        return n;
    }

    private void grow() {
        int cap = offsets.length;
        long[] o = new long[cap * 2];
        DurabilityCallback[] c = new DurabilityCallback[cap * 2];
        for (int i = 0; i < size; i++) {
            o[i] = offsets[(head + i) & (cap - 1)];
            c[i] = callbacks[(head + i) & (cap - 1)];
        }
        offsets = o;
        callbacks = c;
        head = 0;
    }
}
