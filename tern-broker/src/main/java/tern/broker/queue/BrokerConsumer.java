package tern.broker.queue;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import tern.protocol.ErrorCode;
import tern.queue.Consumer;
import tern.queue.Delivery;
import tern.queue.QueueException;

/**
 * One CONSUME of one connection, attached to the engine. {@link #deliver} runs under the queue's lock on any
 * thread: on the connection's event loop it writes the DELIVER at once; elsewhere it hands the delivery over
 * (bounded by the prefetch) and the loop writes the batch with one flush.
 */
final class BrokerConsumer implements Consumer {
    final QueueSession session;
    final int id;
    final String queue;
    final boolean autoAck;
    /** Most deliveries waiting for the loop; prefetch for acked consumers. */
    final int handoffLimit;
    volatile long engineId;
    /** Set once CONSUME was answered: until then deliveries wait in the hand-over queue. */
    volatile boolean ready;
    volatile boolean cancelled;
    /** deliver() refused something: the engine paused this consumer until resume. */
    volatile boolean needsResume;
    final ConcurrentLinkedQueue<Delivery> handoff = new ConcurrentLinkedQueue<>();
    final AtomicInteger handoffSize = new AtomicInteger();
    final AtomicBoolean drainScheduled = new AtomicBoolean();

    BrokerConsumer(QueueSession session, int id, String queue, boolean autoAck, int prefetch) {
        this.session = session;
        this.id = id;
        this.queue = queue;
        this.autoAck = autoAck;
        this.handoffLimit = prefetch;
    }

    @Override
    public boolean deliver(Delivery d) {
        if (cancelled || !session.channel.isWritable()) {
            needsResume = !cancelled;
            return false;
        }
        if (ready && handoffSize.get() == 0 && session.channel.loop().inEventLoop()) {
            session.writeDeliver(this, d);
            return true;
        }
        if (handoffSize.get() >= handoffLimit) {
            needsResume = true;
            return false;
        }
        handoff.add(d);
        handoffSize.incrementAndGet();
        if (ready) {
            scheduleDrain();
        }
        return true;
    }

    void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            session.execute(this::drain);
        }
    }

    /** Loop: writes the handed-over deliveries, flushes, and resumes the consumer if it was paused. */
    void drain() {
        drainScheduled.set(false);
        int n = 0;
        Delivery d;
        while ((d = handoff.poll()) != null) {
            handoffSize.decrementAndGet();
            if (!cancelled) {
                session.writeDeliver(this, d);
                n++;
            }
        }
        if (n > 0) {
            session.channel.flush();
        }
        session.resumeIfPaused(this);
    }

    @Override
    public void cancelled(QueueException reason) {
        if (reason.code() == ErrorCode.SERVER_SHUTDOWN) {
            cancelled = true;
            return;
        }
        session.execute(() -> session.consumerCancelled(this, reason));
    }
}
