package tern.broker.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Frames;

/**
 * First handler of every connection: looks at the first byte the client sends and sets up the rest
 * of the pipeline, then removes itself (the byte is passed on, nothing is consumed).
 *
 * <ul>
 *   <li>{@code 0x16} (a TLS handshake record, i.e. a ClientHello): on a TLS port an {@link SslHandler}
 *       takes its place; on a plaintext port the connection is closed at once and logged, so the TLS
 *       client fails its handshake immediately instead of waiting.</li>
 *   <li>anything else (the Tern preface starts with {@code 'T'}): on a TLS-required port the client
 *       gets a plaintext {@code ERROR 304 TLS_REQUIRED} (closing); otherwise the bytes go on to the
 *       session, which checks the preface.</li>
 * </ul>
 *
 * One byte decides, so a trickling client costs nothing here: the cumulation buffer holds at most
 * what one read delivered. HTTP (a later gateway) would be recognised here too.
 */
public final class FirstBytesDetector extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(FirstBytesDetector.class);
    /** First byte of a TLS record carrying a handshake message (RFC 8446 section 5.1). */
    public static final int TLS_HANDSHAKE_RECORD = 0x16;

    private final SslContext sslContext;
    private final boolean tlsRequired;
    private final Duration handshakeTimeout;

    /** sslContext null: a plaintext port. */
    public FirstBytesDetector(SslContext sslContext, boolean tlsRequired, Duration handshakeTimeout) {
        this.sslContext = sslContext;
        this.tlsRequired = sslContext != null && tlsRequired;
        this.handshakeTimeout = handshakeTimeout;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return;
        }
        int first = in.getUnsignedByte(in.readerIndex());
        if (first == TLS_HANDSHAKE_RECORD) {
            if (sslContext == null) {
                log.info("closing connection from {}: TLS ClientHello on a plaintext port (this broker has no "
                        + "tls_cert; connect without TLS)", ctx.channel().remoteAddress());
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            SslHandler ssl = sslContext.newHandler(ctx.alloc());
            ssl.setHandshakeTimeoutMillis(Math.max(1, handshakeTimeout.toMillis()));
            ctx.pipeline().addAfter(ctx.name(), "tls-events", new TlsEvents());
            ctx.pipeline().replace(this, "tls", ssl);
            return;
        }
        if (tlsRequired) {
            log.info("closing connection from {}: plaintext on a TLS-required port (first byte 0x{})",
                    ctx.channel().remoteAddress(), Integer.toHexString(first));
            in.skipBytes(in.readableBytes());
            ctx.channel().config().setAutoRead(false);
            ByteBuffer error = Frames.encode(new Frame.Error(0, ErrorCode.TLS_REQUIRED.code(), true,
                    "this port accepts only TLS: reconnect with TLS"));
            ctx.writeAndFlush(ctx.alloc().buffer(error.remaining()).writeBytes(error))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.pipeline().remove(this);
    }
}
