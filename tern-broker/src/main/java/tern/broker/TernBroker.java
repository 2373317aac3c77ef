package tern.broker;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.broker.guard.ConnectionGate;
import tern.broker.security.Authenticator;
import tern.broker.security.ReloadSignal;
import tern.broker.queue.QueueService;
import tern.broker.session.Counters;
import tern.broker.session.Session;
import tern.broker.session.Sessions;
import tern.protocol.Limits;

/**
 * An embeddable Tern broker. {@link #start} binds and returns once the port is open;
 * {@link #close()} shuts down gracefully (GOAWAY to every client, drain up to
 * {@link BrokerConfig#drainTimeout()}, then close). Thread-safe.
 *
 * <pre>{@code
 * try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0))) {
 *     int port = broker.port();
 *     ...
 * }
 * }</pre>
 */
public final class TernBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TernBroker.class);
    /** The broker's version, sent in WELCOME. */
    public static final String VERSION = versionOf();
    /** After the drain, how long closing connections get to flush before the event loops stop. */
    private static final long CLOSE_GRACE_MILLIS = 1_000;
    /** Largest read buffer; bounds how much one read can hold (and what a sliced delivery can pin). */
    private static final int MAX_READ_BUFFER_BYTES = 64 << 10;

    private final BrokerConfig config;
    private final Sessions sessions;
    /** The exclusive lock on the data directory, held from before the queues open until after they close. */
    private final DataDirLock dataLock;
    /** Durable queues in {@code <dataDir>/queues}; closed after the connections (docs/queues.md). */
    private final QueueService queues;
    private final Authenticator authenticator;
    private final ConnectionGate gate;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel serverChannel;
    private final int port;
    private final String transport;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Object closeLock = new Object();
    private boolean closing;

    private TernBroker(BrokerConfig config) throws InterruptedException {
        this.config = config;
        Limits limits = config.limits();
        String serverId = HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
        this.authenticator = Authenticator.load(config.usersFile());
        this.sessions = new Sessions(limits, serverId, VERSION, authenticator);
        this.dataLock = DataDirLock.acquire(config.dataDir());
        try {
            this.queues = QueueService.open(config.dataDir().resolve("queues"), config.queueLimits());
        } catch (RuntimeException e) {
            dataLock.close();
            throw e;
        }
        sessions.queueService(queues);
        this.gate = new ConnectionGate(config.addressLimits(), config.tls(), limits.handshakeTimeout());
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.transport = epoll ? "epoll" : "nio";
        this.bossGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tern-accept", true), io);
        this.workerGroup = new MultiThreadIoEventLoopGroup(config.eventLoopThreads(),
                new DefaultThreadFactory("tern-io", true), io);
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(bossGroup, workerGroup)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childOption(ChannelOption.RECVBUF_ALLOCATOR,
                            new AdaptiveRecvByteBufAllocator(512, 16 << 10, MAX_READ_BUFFER_BYTES))
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark(limits))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            gate.init(ch, () -> sessions.newSession(ch));
                        }
                    });
            this.serverChannel = b.bind(config.host(), config.port()).sync().channel();
        } catch (InterruptedException e) {
            shutdownGroups();
            queues.close();
            dataLock.close();
            throw e;
        } catch (Exception e) {
            // bind() reports an address in use as a (sneakily thrown) IOException.
            shutdownGroups();
            queues.close();
            dataLock.close();
            throw new IllegalStateException("cannot listen on " + config.host() + ":" + config.port() + ": " + e, e);
        }
        this.port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Starts a broker and returns once it accepts connections. Throws IllegalStateException when the
     * address cannot be bound (the message names host and port), when the data directory is held by another
     * broker (the message names the directory and, when it can be known, the other broker's pid), or when anything
     * else needed to start fails, such as the users file or the queues (with that failure's own message).
     */
    public static TernBroker start(BrokerConfig config) {
        TernBroker broker;
        try {
            broker = new TernBroker(config);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + config.host() + ":" + config.port(), e);
        } catch (IllegalStateException e) {
            // the address cannot be bound, or the data directory is held: the message says which
            throw e;
        } catch (RuntimeException e) {
            // the users file cannot be loaded (the message names it and the line), the queues cannot open, ...
            throw new IllegalStateException(e.getMessage() != null ? e.getMessage() : e.toString(), e);
        }
        Limits l = config.limits();
        log.info("tern broker {} listening on {}:{} ({}, {} event loop{}); limits: maxConnections={} maxFrameBytes={} "
                        + "maxSubscriptions={} maxPendingBytes={} maxPendingMessages={} maxSubjectBytes={} "
                        + "handshakeTimeout={}ms pingInterval={}ms idleTimeout={}ms",
                VERSION, config.host(), broker.port, broker.transport, config.eventLoopThreads(),
                config.eventLoopThreads() == 1 ? "" : "s", l.maxConnections(), l.maxFrameBytes(),
                l.maxSubscriptions(), l.maxPendingBytes(), l.maxPendingMessages(), l.maxSubjectBytes(),
                l.handshakeTimeout().toMillis(), l.pingInterval().toMillis(), l.idleTimeout().toMillis());
        broker.authenticator.logStartup();
        return broker;
    }

    /**
     * For a command-line process: starts the broker, closes it gracefully on SIGTERM or SIGINT (or any
     * JVM shutdown), and returns once it is closed, so the caller can exit with status 0.
     */
    public static void runUntilShutdown(BrokerConfig config) {
        TernBroker broker = start(config);
        Thread hook = new Thread(broker::close, "tern-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean signals = handleSignal("TERM", broker) & handleSignal("INT", broker);
        ReloadSignal.install(broker.authenticator);
        if (!signals) {
            log.debug("signal handlers unavailable; relying on the shutdown hook");
        }
        broker.awaitClosed();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down (the hook is what closed us).
        }
    }

    /**
     * Re-reads the users file (SIGHUP does the same for {@link #runUntilShutdown}). New logins use it;
     * connections already logged in keep their permissions. False, with the old file still in force,
     * when it cannot be loaded or the broker runs without one.
     */
    public boolean reloadUsers() {
        return authenticator.reload();
    }

    /** True when clients must authenticate (a users file is configured). */
    public boolean authenticationRequired() {
        return authenticator.required();
    }

    /** The bound TCP port (useful with port 0). */
    public int port() {
        return port;
    }

    public BrokerConfig config() {
        return config;
    }

    /** "epoll" or "nio". */
    public String transport() {
        return transport;
    }

    /** A snapshot of the broker's counters. */
    public BrokerStats stats() {
        Counters c = sessions.counters();
        long[] q = queues.counts();
        return new BrokerStats(c.connections(), c.connectionsAccepted(), c.connectionsRejected(), c.subscriptions(),
                c.msgsIn(), c.msgsOut(), c.bytesIn(), c.bytesOut(), c.slowConsumerDrops(), c.slowConsumerDisconnects(),
                c.pendingBytesHighWater(), c.waitingBytesHighWater(), c.errors(), (int) q[0], q[1], q[2]);
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() {
        boolean interrupted = false;
        while (true) {
            try {
                closed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Graceful shutdown (protocol rule 12): stop accepting, send GOAWAY(SERVER_SHUTDOWN, drain) to every
     * client, serve them until they leave or the drain timeout passes, flush, close. Idempotent; a
     * second caller waits for the first to finish.
     */
    @Override
    public void close() {
        for (io.netty.util.concurrent.EventExecutor e : workerGroup) {
            if (e.inEventLoop()) {
                throw new IllegalStateException("TernBroker.close() called from its own I/O thread; it would block it");
            }
        }
        synchronized (closeLock) {
            if (closing) {
                awaitClosed();
                return;
            }
            closing = true;
        }
        try {
            Duration drain = config.drainTimeout();
            long start = System.nanoTime();
            log.info("shutting down: {} connections, drain up to {} ms", sessions.liveCount(), drain.toMillis());
            serverChannel.close().syncUninterruptibly();
            sessions.beginShutdown((int) Math.min(Integer.MAX_VALUE, drain.toMillis()));
            long deadline = start + drain.toNanos();
            while (sessions.liveCount() > 0 && System.nanoTime() < deadline) {
                sleepMillis(10);
            }
            int left = sessions.liveCount();
            if (left > 0) {
                sessions.closeAll();
                long graceEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_GRACE_MILLIS);
                while (sessions.liveCount() > 0 && System.nanoTime() < graceEnd) {
                    sleepMillis(10);
                }
            }
            shutdownGroups();
            try {
                queues.close();
            } finally {
                dataLock.close();
            }
            log.info("shut down after {} ms ({} connections closed at the drain deadline)",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), left);
        } finally {
            closed.countDown();
        }
    }

    private void shutdownGroups() {
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Socket output above high makes a connection unwritable (its reads pause); the headroom above
     * high leaves room for one frame and one batch so the maxPendingBytes check, not Netty, decides.
     */
    static WriteBufferWaterMark waterMark(Limits limits) {
        long cap = Math.min(limits.maxPendingBytes(), Integer.MAX_VALUE);
        long headroom = Math.min(cap / 2, (long) limits.maxFrameBytes() + MAX_READ_BUFFER_BYTES + (64 << 10));
        int high = (int) Math.max(2, cap - headroom);
        return new WriteBufferWaterMark(high / 2, high);
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String versionOf() {
        String v = TernBroker.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }

    /**
     * Installs a handler for a POSIX signal through sun.misc.Signal (module jdk.unsupported), looked up
     * reflectively so the build has no dependency on it. The handler closes the broker, so the main
     * thread returns normally and the process exits 0 rather than 143.
     */
    private static boolean handleSignal(String name, TernBroker broker) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            InvocationHandler h = (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                    log.info("received SIG{}", name);
                    Thread t = new Thread(broker::close, "tern-signal-" + name);
                    t.start();
                    return null;
                }
                return method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                        : method.getName().equals("equals") ? proxy == args[0] : "tern-signal-handler";
            };
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[]{handlerClass}, h);
            signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }
}
