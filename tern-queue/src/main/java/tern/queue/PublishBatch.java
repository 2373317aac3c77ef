package tern.queue;

import java.util.Arrays;

/**
 * A run of messages for one queue, published together with {@link QueueEngine#publish(String, PublishBatch)}: they
 * share one log write and one wait for durability, so a burst of SENDs costs one write call, one group-commit
 * registration and one hand-over of confirms instead of one of each per message.
 *
 * <p>Fill it with {@link #add}, publish it once, then read the outcome. When {@code publish} returns, every
 * message is either refused ({@link #refusal} not null: not in the queue, never will be) or accepted (in the queue,
 * at {@link #offset}). If at least one was accepted, exactly one of {@link #durable} and {@link #failed} follows,
 * once every accepted message is as durable as the queue's {@link Durability} promises, or once that has become
 * impossible. It may run before {@code publish} returns (transient queues, fsync-interval queues), on the calling
 * thread under the queue's lock, or on the storage's sync thread: it must be quick and must not call the engine.
 *
 * <p>Not thread-safe before it is published; not reusable after.
 */
public abstract class PublishBatch {
    private String[] subjects;
    private byte[][] headers;
    private byte[][] payloads;
    private DeadLetter[] deadLetters;
    private long[] offsets;
    private QueueException[] refusals;
    private int size;
    private boolean published;
    private boolean transfer;

    /** A batch with room for {@code capacity} messages before it grows. */
    protected PublishBatch(int capacity) {
        int n = Math.max(1, capacity);
        subjects = new String[n];
        headers = new byte[n][];
        payloads = new byte[n][];
        offsets = new long[n];
        refusals = new QueueException[n];
    }

    /**
     * Adds one message; the engine keeps the arrays (the caller must not modify them). Returns its index.
     *
     * @param headers the header block (opaque), empty array when none
     */
    public final int add(String subject, byte[] headers, byte[] payload) {
        return add(subject, headers, payload, null);
    }

    final int add(String subject, byte[] header, byte[] payload, DeadLetter dead) {
        if (published) {
            throw new IllegalStateException("batch already published");
        }
        if (size == subjects.length) {
            int n = size * 2;
            subjects = Arrays.copyOf(subjects, n);
            headers = Arrays.copyOf(headers, n);
            payloads = Arrays.copyOf(payloads, n);
            offsets = Arrays.copyOf(offsets, n);
            refusals = Arrays.copyOf(refusals, n);
            if (deadLetters != null) {
                deadLetters = Arrays.copyOf(deadLetters, n);
            }
        }
        if (dead != null && deadLetters == null) {
            deadLetters = new DeadLetter[subjects.length];
        }
        subjects[size] = subject;
        headers[size] = header;
        payloads[size] = payload;
        if (deadLetters != null) {
            deadLetters[size] = dead;
        }
        offsets[size] = -1;
        return size++;
    }

    /** Number of messages added. */
    public final int size() {
        return size;
    }

    /** Once published: the message's offset in the queue's log, or -1 when it was refused. */
    public final long offset(int index) {
        return offsets[index];
    }

    /** Once published: why the message was refused, or null when it was accepted. */
    public final QueueException refusal(int index) {
        return refusals[index];
    }

    /**
     * Every accepted message is durable (as its queue's policy defines it).
     *
     * @param fsynced true when an fsync covering the messages completed before this call
     */
    protected abstract void durable(boolean fsynced);

    /** The accepted messages will never be confirmed (failed fsync, queue deleted); {@code error.code()} says why. */
    protected abstract void failed(QueueException error);

    // ---- engine side --------------------------------------------------------------------------------------

    final void markPublished() {
        if (published) {
            throw new IllegalStateException("batch already published");
        }
        published = true;
    }

    /** Marks a move from another queue (dead letter, redrive): it already holds its memory, so no budget check. */
    final void markTransfer() {
        transfer = true;
    }

    final boolean isTransfer() {
        return transfer;
    }

    final String subject(int i) {
        return subjects[i];
    }

    final byte[] headers(int i) {
        return headers[i];
    }

    final byte[] payload(int i) {
        return payloads[i];
    }

    final DeadLetter deadLetter(int i) {
        return deadLetters == null ? null : deadLetters[i];
    }

    final void accept(int i, long offset) {
        offsets[i] = offset;
    }

    final void refuse(int i, QueueException e) {
        if (refusals[i] == null) {
            refusals[i] = e;
        }
    }

    /** Refuses every message from index on that is not refused yet. */
    final void refuseFrom(int from, QueueException e) {
        for (int i = from; i < size; i++) {
            if (offsets[i] < 0) {
                refuse(i, e);
            }
        }
    }

    /** A batch of one message reporting to a {@link PublishCallback}. */
    static final class Single extends PublishBatch {
        private final PublishCallback callback;

        Single(String subject, byte[] headers, byte[] payload, DeadLetter dead, PublishCallback callback) {
            super(1);
            this.callback = callback;
            add(subject, headers, payload, dead);
        }

        /** After publish: reports a refusal to the callback; true when the message was accepted. */
        boolean reportRefusal() {
            QueueException e = refusal(0);
            if (e != null) {
                callback.failed(e);
                return false;
            }
            return true;
        }

        @Override
        protected void durable(boolean fsynced) {
            callback.confirmed(offset(0), fsynced);
        }

        @Override
        protected void failed(QueueException error) {
            callback.failed(error);
        }
    }
}
