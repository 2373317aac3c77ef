package tern.storage;

/**
 * Told once whether a record reached the durability that the log's {@link SyncPolicy} promises.
 *
 * <p>Registered with {@link SegmentedLog#whenDurable(long, DurabilityCallback)}. It is called exactly once, either
 * with {@code failure == null} (the record at {@code offset}, and every record before it, is durable) or with the
 * failure that makes that promise impossible ({@link StorageException.Reason#SYNC_FAILED} after a failed fsync,
 * {@link StorageException.Reason#CLOSED} if the log was closed first). A callback that was failed is never later
 * completed successfully, and no success is ever reported for a record that a failed fsync covered.
 *
 * <p>Callbacks usually run on the log's sync thread, in offset order; a callback registered for a record that is
 * already durable (or, under {@link SyncPolicy#NEVER}/{@link SyncPolicy.Interval}, already written) runs at once on
 * the registering thread. Callbacks must be quick and must not block: hand work off to another executor (for a
 * Netty broker: {@code channel.eventLoop().execute(...)}). An exception thrown by a callback is logged and ignored.
 */
@FunctionalInterface
public interface DurabilityCallback {

    /**
     * @param offset  the offset the callback was registered for
     * @param failure {@code null} on success, otherwise why durability will never be confirmed
     */
    void onComplete(long offset, StorageException failure);
}
