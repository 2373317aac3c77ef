package tern.storage;

/**
 * When the log calls {@code fsync} ({@link java.nio.channels.FileChannel#force(boolean) force(false)}) and therefore
 * what a durability notification ({@link SegmentedLog#whenDurable(long, DurabilityCallback)},
 * {@link SegmentedLog#durableOffset()}) promises.
 *
 * <table>
 *   <caption>Guarantees</caption>
 *   <tr><th>policy</th><th>callback fires when</th><th>survives process crash</th><th>survives power loss</th></tr>
 *   <tr><td>{@link #ALWAYS} (default)</td><td>after an fsync that covers the record (group commit)</td>
 *       <td>yes</td><td>yes, every confirmed record</td></tr>
 *   <tr><td>{@link #interval(long) interval(ms)}</td><td>right after the write; fsync runs every {@code ms}</td>
 *       <td>yes</td><td>only what was synced: up to {@code ms} of confirmed records may be lost</td></tr>
 *   <tr><td>{@link #NEVER} (tests only)</td><td>right after the write; fsync never runs</td>
 *       <td>yes</td><td>no</td></tr>
 * </table>
 *
 * <p>{@link #NEVER} exists so that a power-cut test can prove it detects loss; never use it in production.
 */
public sealed interface SyncPolicy permits SyncPolicy.Always, SyncPolicy.Interval, SyncPolicy.Never {

    /** Group commit: confirm only after an fsync covering the record. The default and the only power-safe policy. */
    SyncPolicy ALWAYS = new Always();

    /** Never fsync; confirm right after the write. Test-only: it loses confirmed records on power loss. */
    SyncPolicy NEVER = new Never();

    /**
     * Weaker than {@link #ALWAYS}: confirm right after the write and fsync in the background every {@code millis}
     * milliseconds, so a power loss can lose up to that much confirmed data.
     *
     * @param millis the fsync period, at least 1
     * @return the policy
     */
    static SyncPolicy interval(long millis) {
        return new Interval(millis);
    }

    /** See {@link SyncPolicy#ALWAYS}. */
    record Always() implements SyncPolicy {
        @Override
        public String toString() {
            return "ALWAYS";
        }
    }

    /**
     * See {@link SyncPolicy#interval(long)}.
     *
     * @param millis the fsync period in milliseconds
     */
    record Interval(long millis) implements SyncPolicy {
        /**
         * Validates the period.
         *
         * @param millis the fsync period in milliseconds, at least 1
         */
        public Interval {
            if (millis < 1) {
                throw new IllegalArgumentException("sync interval must be at least 1 ms: " + millis);
            }
        }

        @Override
        public String toString() {
            return "INTERVAL(" + millis + "ms)";
        }
    }

    /** See {@link SyncPolicy#NEVER}. */
    record Never() implements SyncPolicy {
        @Override
        public String toString() {
            return "NEVER";
        }
    }
}
