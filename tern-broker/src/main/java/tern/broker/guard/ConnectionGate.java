package tern.broker.guard;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.broker.tls.FirstBytesDetector;
import tern.broker.tls.TlsConfig;
import tern.broker.tls.TlsContexts;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Frames;

/**
 * Builds each accepted connection's pipeline: the per-address admission check ({@link AddressGuard}),
 * then {@link FirstBytesDetector} (TLS or plaintext), then the session. A refused connection gets
 * no session at all: on a port that accepts plaintext it is sent {@code ERROR 204
 * TOO_MANY_CONNECTIONS} (closing) and closed; on a TLS-only port it is closed (a TLS client could
 * not read a plaintext frame). Refusals are logged at most once per second with a count.
 */
public final class ConnectionGate {
    private static final Logger log = LoggerFactory.getLogger(ConnectionGate.class);
    private static final long LOG_INTERVAL_NANOS = 1_000_000_000L;

    private final AddressGuard guard;
    private final SslContext sslContext;
    private final boolean tlsRequired;
    private final Duration handshakeTimeout;
    private final LongAdder refused = new LongAdder();
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private final AtomicLong unlogged = new AtomicLong();

    /** tls null: a plaintext port. Reads the TLS files now (a bad file fails here, naming it). */
    public ConnectionGate(AddressLimits limits, TlsConfig tls, Duration handshakeTimeout) {
        this.guard = new AddressGuard(limits);
        this.sslContext = tls == null ? null : TlsContexts.server(tls);
        this.tlsRequired = tls != null && tls.required();
        this.handshakeTimeout = handshakeTimeout;
    }

    public AddressGuard guard() {
        return guard;
    }

    /** Connections refused by the per-address limits since start. */
    public long refused() {
        return refused.sum();
    }

    /** Installs the handlers of a newly accepted channel (called from its ChannelInitializer). */
    public void init(SocketChannel ch, Supplier<ChannelHandler> session) {
        InetAddress address = ch.remoteAddress().getAddress();
        AddressGuard.Verdict verdict = guard.admit(address);
        if (verdict != AddressGuard.Verdict.ADMITTED) {
            refused.increment();
            String reason = verdict == AddressGuard.Verdict.TOO_MANY_OPEN
                    ? "max " + guard.limits().maxConnectionsPerAddress() + " connections per address reached"
                    : "more than " + guard.limits().maxNewConnectionsPerSecond() + " new connections per second from this address";
            logRefusal(address, reason);
            ch.pipeline().addLast("refused", new Refuser(reason, !tlsRequired));
            return;
        }
        ch.closeFuture().addListener(f -> guard.release(address));
        ch.pipeline().addLast("detect", new FirstBytesDetector(sslContext, tlsRequired, handshakeTimeout));
        ch.pipeline().addLast("session", session.get());
    }

    private void logRefusal(InetAddress address, String reason) {
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            long others = unlogged.getAndSet(0);
            log.warn("refused connection from {}: {}{}", address.getHostAddress(), reason,
                    others == 0 ? "" : " (and " + others + " more refusals not logged in the last second)");
        } else {
            unlogged.incrementAndGet();
        }
    }

    /** The whole pipeline of a refused connection. */
    private static final class Refuser extends ChannelInboundHandlerAdapter {
        private final String reason;
        private final boolean plaintext;

        Refuser(String reason, boolean plaintext) {
            this.reason = reason;
            this.plaintext = plaintext;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(false);
            if (!plaintext) {
                ctx.close();
                return;
            }
            ByteBuffer error = Frames.encode(new Frame.Error(0, ErrorCode.TOO_MANY_CONNECTIONS.code(), true, reason));
            ctx.writeAndFlush(ctx.alloc().buffer(error.remaining()).writeBytes(error))
                    .addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
