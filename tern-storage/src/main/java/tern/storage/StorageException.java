package tern.storage;

/**
 * A storage operation failed. {@link #reason()} is stable and meant for code: a broker maps it to a protocol error
 * and decides whether to retry.
 *
 * <p>{@link #fatal()} tells whether the log is now unusable ({@link SegmentedLog#isFailed()}): every further append
 * throws until the log is closed and reopened (which recovers from what is on disk). A non-fatal exception leaves
 * the log exactly as it was before the call (a partial write has been cut back), so the caller may retry later, e.g.
 * once disk space returns after {@link Reason#DISK_FULL}.
 */
public final class StorageException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why an operation failed. New values may be added; treat unknown ones as {@link #IO_ERROR}. */
    public enum Reason {
        /** The device or quota is out of space. The append was refused and cut back; retry once space returns. */
        DISK_FULL,
        /** Any other I/O failure. */
        IO_ERROR,
        /** An fsync failed. Always fatal: nothing it covered will ever be confirmed; close and reopen the log. */
        SYNC_FAILED,
        /** Data on disk failed validation (CRC, length, offset) when read. */
        CORRUPT,
        /** A record is larger than {@link LogConfig#maxRecordBytes()} (or a batch larger than a segment). */
        RECORD_TOO_LARGE,
        /** The requested offset is below {@link SegmentedLog#startOffset()} or not yet written. */
        OFFSET_OUT_OF_RANGE,
        /** The log has been closed. */
        CLOSED,
        /** The files on disk contradict the configuration (e.g. records above a lowered maxRecordBytes). */
        CONFIG_MISMATCH
    }

    private final Reason reason;
    private final boolean fatal;

    /**
     * @param reason  the stable reason
     * @param fatal   whether the log is failed from now on
     * @param message a human-readable description
     * @param cause   the underlying exception, or {@code null}
     */
    public StorageException(Reason reason, boolean fatal, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
        this.fatal = fatal;
    }

    /**
     * A non-fatal exception.
     *
     * @param reason  the stable reason
     * @param message a human-readable description
     */
    public StorageException(Reason reason, String message) {
        this(reason, false, message, null);
    }

    /** @return the stable reason */
    public Reason reason() {
        return reason;
    }

    /** @return whether the log is failed (must be closed and reopened) */
    public boolean fatal() {
        return fatal;
    }
}
