package tern.broker.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;
import tern.broker.routing.RouteCache;
import tern.broker.routing.SubjectRouter;

/**
 * Per-event-loop batching of output. Sessions written to during a read burst register here once;
 * {@link #flushAll()} (at the end of the burst) flushes each of them once. Deliveries to
 * subscribers living on another event loop are collected and handed over with one
 * {@code execute()} per loop per burst. Also owns the loop's {@link RouteCache}. Confined to its loop.
 */
final class Outbox {
    private final EventLoop loop;
    private final Counters counters;
    final RouteCache routeCache;
    private final ArrayList<Session> dirty = new ArrayList<>();
    private final Map<EventLoop, ArrayList<Object>> remote = new IdentityHashMap<>();
    private final Sessions sessions;
    long msgsOut;
    long bytesOut;
    long msgsIn;
    long bytesIn;
    /** The session whose input is being processed on this loop (inside channelRead), else null. */
    Session publisher;

    Outbox(EventLoop loop, SubjectRouter router, Counters counters, Sessions sessions) {
        this.loop = loop;
        this.counters = counters;
        this.routeCache = new RouteCache(router);
        this.sessions = sessions;
    }

    void markDirty(Session s) {
        dirty.add(s);
    }

    /** Queues a delivery for a subscriber on another loop; frame is a retained slice holding one whole frame. */
    void remote(Subscription sub, ByteBuf frame, int flags) {
        ArrayList<Object> batch = remote.computeIfAbsent(sub.session.loop(), l -> new ArrayList<>());
        batch.add(sub);
        batch.add(frame);
        batch.add(flags);
    }

    /** Flushes every session written to since the last call, hands remote deliveries over, folds counters. */
    void flushAll() {
        assert loop.inEventLoop();
        // Flushing may trigger writability callbacks that write (and mark dirty) again: loop by index.
        for (int i = 0; i < dirty.size(); i++) {
            dirty.get(i).flushNow();
        }
        dirty.clear();
        if (!remote.isEmpty()) {
            for (Map.Entry<EventLoop, ArrayList<Object>> e : remote.entrySet()) {
                ArrayList<Object> batch = e.getValue();
                if (batch.isEmpty()) {
                    continue;
                }
                Object[] items = batch.toArray();
                batch.clear();
                EventLoop target = e.getKey();
                target.execute(() -> deliverRemote(target, items));
            }
        }
        if (msgsIn != 0 || bytesIn != 0) {
            counters.msgsIn.add(msgsIn);
            counters.bytesIn.add(bytesIn);
            msgsIn = 0;
            bytesIn = 0;
        }
        if (msgsOut != 0) {
            counters.msgsOut.add(msgsOut);
            counters.bytesOut.add(bytesOut);
            msgsOut = 0;
            bytesOut = 0;
        }
    }

    private void deliverRemote(EventLoop target, Object[] items) {
        for (int i = 0; i < items.length; i += 3) {
            Subscription sub = (Subscription) items[i];
            ByteBuf frame = (ByteBuf) items[i + 1];
            try {
                sub.session.deliver(sub, frame, frame.readerIndex(), frame.readableBytes(), (Integer) items[i + 2]);
            } finally {
                frame.release();
            }
        }
        sessions.outbox(target).flushAll();
    }
}
