package tern.queue;

/** One consumer attached to one queue. Guarded by the queue's lock. */
final class ConsumerState {
    final long id;
    final int prefetch;
    final Consumer consumer;
    int unacked;
    boolean paused;

    ConsumerState(long id, int prefetch, Consumer consumer) {
        this.id = id;
        this.prefetch = prefetch;
        this.consumer = consumer;
    }
}
