package tern.broker.session;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import tern.broker.queue.QueueService;
import tern.broker.routing.SubjectRouter;
import tern.broker.security.Authenticator;
import tern.protocol.Limits;

/**
 * What every session shares: limits, router, counters, the set of live sessions and the
 * per-event-loop {@link Outbox}es. Also the admission gate for the connection limit.
 */
public final class Sessions {
    private final Limits limits;
    private final SubjectRouter router = new SubjectRouter();
    private final Counters counters = new Counters();
    private final String serverId;
    private final String serverVersion;
    private final Authenticator authenticator;
    private final Set<Session> live = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<EventLoop, Outbox> outboxes = new ConcurrentHashMap<>();
    private volatile boolean shuttingDown;
    private volatile QueueService queueService;
    private volatile int drainMillis;

    public Sessions(Limits limits, String serverId, String serverVersion) {
        this(limits, serverId, serverVersion, Authenticator.open());
    }

    /** With authentication (docs/security.md): authenticator decides logins and each user's access. */
    public Sessions(Limits limits, String serverId, String serverVersion, Authenticator authenticator) {
        this.limits = limits;
        this.serverId = serverId;
        this.serverVersion = serverVersion;
        this.authenticator = authenticator;
    }

    public Authenticator authenticator() {
        return authenticator;
    }

    /** A new handler for an accepted channel. */
    public Session newSession(Channel channel) {
        return new Session(this, channel);
    }

    /** The durable-queue service, or null when the broker runs without one. */
    public QueueService queueService() {
        return queueService;
    }

    /** Installs the queue service (once, before connections are accepted). */
    public void queueService(QueueService service) {
        this.queueService = service;
    }

    public Counters counters() {
        return counters;
    }

    public SubjectRouter router() {
        return router;
    }

    Limits limits() {
        return limits;
    }

    String serverId() {
        return serverId;
    }

    String serverVersion() {
        return serverVersion;
    }

    Outbox outbox(EventLoop loop) {
        return outboxes.computeIfAbsent(loop, l -> new Outbox(l, router, counters, this));
    }

    /** Takes a connection slot; false when maxConnections are open or the server is shutting down. */
    boolean admit(Session s) {
        if (shuttingDown) {
            return false;
        }
        while (true) {
            int n = counters.connections.get();
            if (n >= limits.maxConnections()) {
                return false;
            }
            if (counters.connections.compareAndSet(n, n + 1)) {
                live.add(s);
                counters.connectionsAccepted.increment();
                return true;
            }
        }
    }

    void release(Session s) {
        if (live.remove(s)) {
            counters.connections.decrementAndGet();
        }
    }

    boolean shuttingDown() {
        return shuttingDown;
    }

    int drainMillis() {
        return drainMillis;
    }

    /** Stops admitting and sends GOAWAY to every live session (each on its own loop). */
    public void beginShutdown(int drainMillis) {
        this.drainMillis = drainMillis;
        this.shuttingDown = true;
        for (Session s : List.copyOf(live)) {
            s.loop().execute(s::goAway);
        }
    }

    /** Sessions still open. */
    public int liveCount() {
        return live.size();
    }

    /** Flushes and closes every remaining session (each on its own loop). */
    public void closeAll() {
        for (Session s : List.copyOf(live)) {
            s.loop().execute(s::closeAfterDrain);
        }
    }
}
