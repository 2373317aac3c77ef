package tern.storage;

import java.util.Arrays;

/**
 * In-memory sparse index of one segment: entries {@code (relativeOffset, filePosition)}, both increasing, packed into
 * one {@code long} each ({@code relativeOffset << 32 | position}; both fit in 32 unsigned bits because a segment
 * holds at most {@link Integer#MAX_VALUE} bytes).
 *
 * <p>One writer thread adds entries; any number of reader threads look up concurrently without locks. The writer
 * publishes a grown array before the count that covers it, and readers read the count before the array, so a reader
 * always sees at least {@code count} valid entries.
 */
final class SparseIndex {

    private volatile long[] entries;
    private volatile int count;

    SparseIndex() {
        this.entries = new long[16];
    }

    SparseIndex(long[] entries, int count) {
        this.entries = entries;
        this.count = count;
    }

    static long pack(long relativeOffset, long position) {
        return (relativeOffset << 32) | (position & 0xFFFF_FFFFL);
    }

    static long relativeOffset(long entry) {
        return entry >>> 32;
    }

    static long position(long entry) {
        return entry & 0xFFFF_FFFFL;
    }

    /** Writer thread only; entries must be added in increasing order. */
    void add(long relativeOffset, long position) {
        int n = count;
        long[] e = entries;
        if (n == e.length) {
            e = Arrays.copyOf(e, n * 2);
            entries = e;
        }
        e[n] = pack(relativeOffset, position);
        count = n + 1;
    }

    int count() {
        return count;
    }

    /** @return a copy of the entries */
    long[] toArray() {
        int n = count;
        return Arrays.copyOf(entries, n);
    }

    /**
     * @return the packed entry with the greatest relative offset {@code <= target}, or {@code pack(0, 0)} (the
     *         segment's first record) if there is none
     */
    long floor(long targetRelativeOffset) {
        int n = count;
        long[] e = entries;
        int lo = 0;
        int hi = n - 1;
        long best = 0L;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long entry = e[mid];
            if (relativeOffset(entry) <= targetRelativeOffset) {
                best = entry;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }
}
