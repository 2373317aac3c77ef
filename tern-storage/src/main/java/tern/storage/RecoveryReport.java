package tern.storage;

import java.nio.file.Path;

/**
 * What {@link SegmentedLog#open} found and repaired. Available as {@link SegmentedLog#recoveryReport()} and logged
 * (at INFO when something was dropped, otherwise DEBUG) through {@link System.Logger} {@code tern.storage}.
 *
 * @param directory                the log directory
 * @param segments                 segments after recovery
 * @param startOffset              first offset after recovery
 * @param endOffset                next offset to be written after recovery
 * @param recordsScanned           records whose frame and CRC were verified (the tail segment, plus any sealed
 *                                 segment that failed its cheap check)
 * @param damage                   why the log was cut, or {@link Damage#NONE}
 * @param damagedSegmentBaseOffset base offset of the segment where the log was cut, -1 if none
 * @param truncatedAtPosition      file position in that segment where it was cut, -1 if none
 * @param bytesDropped             bytes removed (the cut segment's tail plus every later segment)
 * @param segmentsDropped          whole segment files removed after the cut
 * @param indexesRebuilt           sealed-segment index files rewritten because they were missing or stale
 * @param detail                   a human-readable description of the damage, empty if none
 * @param durationNanos            time recovery took
 */
public record RecoveryReport(Path directory, int segments, long startOffset, long endOffset, long recordsScanned,
                             Damage damage, long damagedSegmentBaseOffset, long truncatedAtPosition,
                             long bytesDropped, int segmentsDropped, int indexesRebuilt, String detail,
                             long durationNanos) {

    /** Why recovery cut the log. */
    public enum Damage {
        /** Nothing was cut. */
        NONE,
        /** Fewer bytes than a record header at the end of a segment (a torn write). */
        TORN_HEADER,
        /** A header whose payload runs past the end of the segment (a torn write). */
        TORN_PAYLOAD,
        /** A length field above {@link LogConfig#maxRecordBytes()} (corruption). */
        BAD_LENGTH,
        /** The record's CRC32C does not match (a torn or corrupt record). */
        CRC_MISMATCH,
        /** A valid record whose offset is not the next one expected. */
        OFFSET_MISMATCH,
        /** A segment does not end where the next one begins (segments after it were dropped). */
        SEGMENT_GAP
    }

    /** @return records in the log after recovery */
    public long recordsKept() {
        return endOffset - startOffset;
    }

    /** @return whether recovery removed anything */
    public boolean truncated() {
        return damage != Damage.NONE;
    }

    RecoveryReport withDuration(long nanos) {
        return new RecoveryReport(directory, segments, startOffset, endOffset, recordsScanned, damage,
                damagedSegmentBaseOffset, truncatedAtPosition, bytesDropped, segmentsDropped, indexesRebuilt, detail,
                nanos);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("recovered ").append(directory).append(": offsets [")
                .append(startOffset).append(", ").append(endOffset).append(") in ").append(segments)
                .append(" segment(s), ").append(recordsScanned).append(" record(s) scanned");
        if (damage != Damage.NONE) {
            sb.append("; ").append(damage).append(" in segment ").append(damagedSegmentBaseOffset)
                    .append(": cut at byte ").append(truncatedAtPosition).append(", dropped ").append(bytesDropped)
                    .append(" byte(s) and ").append(segmentsDropped).append(" later segment(s) (").append(detail)
                    .append(')');
        }
        if (indexesRebuilt > 0) {
            sb.append("; rebuilt ").append(indexesRebuilt).append(" index file(s)");
        }
        return sb.append(" in ").append(durationNanos / 1_000_000).append(" ms").toString();
    }
}
