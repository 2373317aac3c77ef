package tern.broker.routing;

import io.netty.buffer.ByteBuf;

/**
 * A direct-mapped cache from subject bytes to {@link SubjectMatch}, owned by one event loop (no
 * locks). Looked up straight from the received frame's bytes, so a hit allocates nothing and needs
 * no String. Only validated subjects are inserted, so a hit also proves the subject is valid.
 * Bounded at {@link #SLOTS} entries; a colliding insert replaces the slot's entry.
 */
public final class RouteCache {
    /** Entries per cache (a power of two). */
    public static final int SLOTS = 4096;
    private static final int MASK = SLOTS - 1;

    private final SubjectRouter router;
    private final byte[][] keys = new byte[SLOTS][];
    private final int[] hashes = new int[SLOTS];
    private final SubjectMatch[] matches = new SubjectMatch[SLOTS];
    private long generation = -1;
    private long hits;
    private long misses;

    public RouteCache(SubjectRouter router) {
        this.router = router;
    }

    /** Hash of length bytes of buf at index; pass it to {@link #lookup} and {@link #put}. */
    public static int hash(ByteBuf buf, int index, int length) {
        int h = 0x9E3779B9 ^ length;
        int i = 0;
        for (; i + 4 <= length; i += 4) {
            h = (h ^ buf.getInt(index + i)) * 0x01000193;
            h ^= h >>> 15;
        }
        for (; i < length; i++) {
            h = (h ^ buf.getByte(index + i)) * 0x01000193;
        }
        return h ^ (h >>> 16);
    }

    /** The cached match for the subject bytes, or null on a miss. */
    public SubjectMatch lookup(ByteBuf buf, int index, int length, int hash) {
        long g = router.generation();
        if (g != generation) {
            clear();
            generation = g;
            misses++;
            return null;
        }
        int slot = hash & MASK;
        byte[] key = keys[slot];
        if (key == null || hashes[slot] != hash || key.length != length || !sameBytes(key, buf, index)) {
            misses++;
            return null;
        }
        hits++;
        return matches[slot];
    }

    /**
     * Matches subject (whose bytes the caller copied) in the router and caches the result under the
     * router generation read before matching, so a concurrent change invalidates it.
     */
    public SubjectMatch matchAndPut(byte[] subject, int hash) {
        long g = router.generation();
        SubjectMatch m = router.match(subject);
        if (g == generation) {
            int slot = hash & MASK;
            keys[slot] = subject;
            hashes[slot] = hash;
            matches[slot] = m;
        }
        return m;
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    private void clear() {
        java.util.Arrays.fill(keys, null);
        java.util.Arrays.fill(matches, null);
    }

    private static boolean sameBytes(byte[] key, ByteBuf buf, int index) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] != buf.getByte(index + i)) {
                return false;
            }
        }
        return true;
    }
}
