package tern.queue;

/**
 * Told exactly once how a publish ended. May run on the storage's sync thread (see docs/queues.md,
 * "Threading"): it must be quick and must not block or call the engine synchronously.
 */
public interface PublishCallback {

    /**
     * The durability receipt: the message is in the queue and as durable as its {@link Durability} promises.
     *
     * @param offset  the message's position in the queue's log
     * @param fsynced true when an fsync covering the message completed before this call
     */
    void confirmed(long offset, boolean fsynced);

    /** The message is not (and will never be confirmed) in the queue; {@code error.code()} says why. */
    void failed(QueueException error);
}
