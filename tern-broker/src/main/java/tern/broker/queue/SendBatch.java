package tern.broker.queue;

import java.util.Arrays;
import tern.queue.PublishBatch;
import tern.queue.QueueException;

/**
 * The SENDs of one read burst for one queue (protocol.md 6.20), published together: one log write, one group-commit
 * wait, one hand-over of their CONFIRMs to the loop (none when no SEND asked for one and the batch became durable).
 * Remembers each SEND's id and whether it asked for a CONFIRM.
 */
final class SendBatch extends PublishBatch {
    /** Most SENDs gathered before the batch is published without waiting for the end of the burst. */
    static final int MAX_MESSAGES = 1024;
    /** Most payload and header bytes gathered before the batch is published. */
    static final long MAX_BYTES = 1 << 20;

    final String queue;
    private final QueueSession session;
    private int[] ids = new int[16];
    private boolean[] confirm = new boolean[16];
    private long bytes;
    // Whether any SEND asked for a CONFIRM: without one, a durable batch has nothing to write.
    private boolean anyConfirm;
    // Set once by the outcome, before the hand-over to the loop (which publishes them).
    boolean fsynced;
    QueueException failure;

    SendBatch(QueueSession session, String queue) {
        super(16);
        this.session = session;
        this.queue = queue;
    }

    void add(byte[] headers, byte[] payload, int id, boolean wantsConfirm) {
        int i = add(queue, headers, payload);
        if (i == ids.length) {
            ids = Arrays.copyOf(ids, i * 2);
            confirm = Arrays.copyOf(confirm, i * 2);
        }
        ids[i] = id;
        confirm[i] = wantsConfirm;
        anyConfirm |= wantsConfirm;
        bytes += headers.length + payload.length;
    }

    boolean full() {
        return size() >= MAX_MESSAGES || bytes >= MAX_BYTES;
    }

    int id(int i) {
        return ids[i];
    }

    boolean wantsConfirm(int i) {
        return confirm[i];
    }

    @Override
    protected void durable(boolean f) {
        fsynced = f;
        if (anyConfirm) {
            session.outcome(this);
        }
    }

    @Override
    protected void failed(QueueException error) {
        failure = error;
        session.outcome(this);
    }
}
