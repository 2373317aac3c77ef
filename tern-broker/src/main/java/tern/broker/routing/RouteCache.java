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
    /** keys[slot] as big-endian 8-byte words (the tail of fewer than 8 bytes is compared from keys). */
    private final long[][] words = new long[SLOTS][];
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
        // 8 bytes per step: subjects are 10-60 bytes, so this is a handful of reads, not one per byte.
        long h = 0x9E3779B97F4A7C15L ^ length;
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            h = (h ^ buf.getLong(index + i)) * 0x100000001B3L;
            h ^= h >>> 29;
        }
        for (; i < length; i++) {
            h = (h ^ buf.getByte(index + i)) * 0x100000001B3L;
        }
        h ^= h >>> 32;
        return (int) (h ^ (h >>> 16));
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
        if (key == null || hashes[slot] != hash || key.length != length || !sameBytes(key, words[slot], buf, index)) {
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
            words[slot] = wordsOf(subject);
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
        java.util.Arrays.fill(words, null);
        java.util.Arrays.fill(matches, null);
    }

    private static long[] wordsOf(byte[] key) {
        long[] w = new long[key.length >>> 3];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(key); // big-endian, like ByteBuf.getLong
        for (int i = 0; i < w.length; i++) {
            w[i] = b.getLong(i << 3);
        }
        return w;
    }

    private static boolean sameBytes(byte[] key, long[] keyWords, ByteBuf buf, int index) {
        for (int w = 0; w < keyWords.length; w++) {
            if (keyWords[w] != buf.getLong(index + (w << 3))) {
                return false;
            }
        }
        for (int i = keyWords.length << 3; i < key.length; i++) {
            if (key[i] != buf.getByte(index + i)) {
                return false;
            }
        }
        return true;
    }
}
