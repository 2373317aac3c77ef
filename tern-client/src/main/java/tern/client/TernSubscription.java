package tern.client;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import tern.protocol.SlowConsumerPolicy;

/** A subscription of a {@link TernConnection}; state shared by the caller, reader and dispatch threads. */
final class TernSubscription implements Subscription {
    /** Wakes blocked {@link #next} callers once the subscription ends. */
    private static final Message END = new Message("", null, Map.of(), new byte[0], 0);

    private final TernConnection connection;
    private final int sid;
    private final String subject;
    private final String queueGroup;
    private final SlowConsumerPolicy policy;
    private final int maxPendingMessages;
    final MessageHandler handler;
    final boolean inbox;
    /** Pull subscriptions only; bounded. */
    final LinkedBlockingQueue<Message> queue;
    private final AtomicLong dropped = new AtomicLong();
    volatile boolean active = true;
    /** Messages delivered since SUB; written by the reader thread only. */
    volatile long delivered;
    /** Unsubscribe once delivered reaches this; 0 = never. */
    volatile long maxDeliver;

    /** No wildcard token: every message's subject is the subscription's own. */
    private final boolean literal;
    // Reader thread only: the last subject seen, reused while the bytes repeat.
    private final LastSubject lastSubject = new LastSubject();

    TernSubscription(TernConnection connection, int sid, SubscribeOptions options, MessageHandler handler, boolean inbox) {
        this.connection = connection;
        this.sid = sid;
        this.subject = options.subject();
        this.literal = isLiteral(subject);
        this.queueGroup = options.queueGroup();
        this.policy = options.policy();
        this.maxPendingMessages = options.maxPendingMessages();
        this.handler = handler;
        this.inbox = inbox;
        this.queue = handler == null && !inbox ? new LinkedBlockingQueue<>(maxPendingMessages == 0
                ? SubscribeOptions.DEFAULT_CLIENT_PENDING_MESSAGES : maxPendingMessages) : null;
    }

    @Override
    public int sid() {
        return sid;
    }

    @Override
    public String subject() {
        return subject;
    }

    @Override
    public String queueGroup() {
        return queueGroup;
    }

    SlowConsumerPolicy policy() {
        return policy;
    }

    int maxPendingMessages() {
        return maxPendingMessages;
    }

    @Override
    public Message next(Duration timeout) {
        if (queue == null) {
            throw new IllegalStateException("next() is for pull subscriptions; sid " + sid + " has a handler");
        }
        try {
            Message m = active ? queue.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS) : queue.poll();
            if (m == END) {
                queue.offer(END); // wake the next waiter too
                return null;
            }
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TernException("interrupted in next()");
        }
    }

    @Override
    public void unsubscribe() {
        connection.unsubscribe(this, 0);
    }

    @Override
    public void unsubscribe(int afterMessages) {
        connection.unsubscribe(this, afterMessages);
    }

    @Override
    public void close() {
        unsubscribe();
    }

    @Override
    public long droppedCount() {
        return dropped.get();
    }

    void addDropped(long count) {
        dropped.addAndGet(count);
    }

    @Override
    public boolean isActive() {
        return active;
    }

    /** Marks the subscription ended (caller holds the connection's write lock) and wakes pull waiters. */
    void end() {
        active = false;
        if (queue != null) {
            queue.offer(END);
        }
    }

    /** The subject string for these bytes, reusing the last one when the bytes repeat (reader thread). */
    String subjectOf(ByteBuffer b, int offset, int length) {
        if (literal) {
            return subject; // the server delivers only messages published to exactly this subject
        }
        return lastSubject.of(b, offset, length);
    }

    private static boolean isLiteral(String pattern) {
        for (String token : pattern.split("\\.", -1)) {
            if (token.equals("*") || token.equals(">")) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "Subscription[sid=" + sid + ", " + subject + (queueGroup != null ? " queue " + queueGroup : "")
                + (handler != null ? ", push" : inbox ? ", inbox" : ", pull") + (active ? "" : ", ended") + "]";
    }
}
