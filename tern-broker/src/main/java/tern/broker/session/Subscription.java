package tern.broker.session;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import tern.broker.routing.Route;
import tern.protocol.SlowConsumerPolicy;

/**
 * One SUB of one connection. Mutable state is touched only by the owning session's event loop;
 * {@code removed} is read by other loops that still hold a cached match, hence volatile.
 */
final class Subscription implements Route {
    final Session session;
    final int sid;
    final String pattern;
    final String queue;
    final SlowConsumerPolicy policy;
    final int maxPendingMessages;
    /** Deliveries accepted since SUB (written, waiting, or dropped while waiting). */
    long delivered;
    /** UNSUB afterMessages; 0 = no limit. */
    long maxMessages;
    /** Dropped since the last DROPPED frame. */
    long dropped;
    /** Whole MSG frames (sid already written) waiting for the socket to drain; null until first needed. */
    ArrayDeque<ByteBuf> waiting;
    /** True while listed in the session's queue of subscriptions with waiting messages or drops. */
    boolean listedSlow;
    volatile boolean removed;

    Subscription(Session session, int sid, String pattern, String queue, SlowConsumerPolicy policy,
                 int maxPendingMessages) {
        this.session = session;
        this.sid = sid;
        this.pattern = pattern;
        this.queue = queue;
        this.policy = policy;
        this.maxPendingMessages = maxPendingMessages;
    }

    @Override
    public String pattern() {
        return pattern;
    }

    @Override
    public String queue() {
        return queue;
    }

    boolean hasWaiting() {
        return waiting != null && !waiting.isEmpty();
    }

    @Override
    public String toString() {
        return "sid " + sid + " " + pattern + (queue == null ? "" : " queue " + queue);
    }
}
