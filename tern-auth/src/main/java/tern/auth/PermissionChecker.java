package tern.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The broker's hot-path publish check for one connection: a direct-mapped cache of the last
 * {@link #CACHE_ENTRIES} decisions keyed by subject bytes, in front of {@link Permissions}. A hit
 * costs a hash and a byte compare and allocates nothing; a miss matches the patterns once and
 * copies the subject into its slot. Not thread-safe: one per connection, like FrameDecoder.
 */
public final class PermissionChecker {
    /** Slots in the decision cache (a power of two); a new subject evicts whatever shared its slot. */
    public static final int CACHE_ENTRIES = 256;
    /** Subjects longer than this are checked but never cached. */
    public static final int MAX_CACHED_SUBJECT_BYTES = 256;

    private final Permissions permissions;
    private final byte[][] keys = new byte[CACHE_ENTRIES][];
    private final boolean[] decisions = new boolean[CACHE_ENTRIES];
    private long hits;
    private long misses;

    PermissionChecker(Permissions permissions) {
        this.permissions = permissions;
    }

    public Permissions permissions() {
        return permissions;
    }

    /** May this connection's user publish to the subject (UTF-8 bytes at offset, length)? */
    public boolean mayPublish(ByteBuffer b, int offset, int length) {
        int hash = 0x811C9DC5;
        for (int i = 0; i < length; i++) {
            hash = (hash ^ b.get(offset + i)) * 0x01000193;
        }
        int slot = (hash ^ (hash >>> 16)) & (CACHE_ENTRIES - 1);
        byte[] key = keys[slot];
        if (key != null && key.length == length && sameBytes(key, b, offset)) {
            hits++;
            return decisions[slot];
        }
        misses++;
        boolean decision = permissions.mayPublish(b, offset, length);
        if (length <= MAX_CACHED_SUBJECT_BYTES) {
            byte[] copy = new byte[length];
            b.get(offset, copy);
            keys[slot] = copy;
            decisions[slot] = decision;
        }
        return decision;
    }

    public boolean mayPublish(String subject) {
        byte[] b = subject.getBytes(StandardCharsets.UTF_8);
        return mayPublish(ByteBuffer.wrap(b), 0, b.length);
    }

    /** Subscriptions are rare next to publishes and are not cached. */
    public boolean maySubscribe(String pattern) {
        return permissions.maySubscribe(pattern);
    }

    public boolean mayQueue(QueueOperation operation, String queueName) {
        return permissions.mayQueue(operation, queueName);
    }

    public long cacheHits() {
        return hits;
    }

    public long cacheMisses() {
        return misses;
    }

    private static boolean sameBytes(byte[] key, ByteBuffer b, int offset) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] != b.get(offset + i)) {
                return false;
            }
        }
        return true;
    }
}
