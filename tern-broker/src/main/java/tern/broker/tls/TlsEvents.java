package tern.broker.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits behind the {@link io.netty.handler.ssl.SslHandler}: a failed TLS handshake (bad client
 * certificate, old protocol, no common suite, timeout) is the peer's fault, so it is logged at INFO
 * with its reason and the connection closed; it never reaches the session as an unexpected error.
 */
final class TlsEvents extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TlsEvents.class);

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (e.isSuccess()) {
                log.debug("TLS handshake with {} done", ctx.channel().remoteAddress());
            } else {
                log.info("closing connection from {}: TLS handshake failed: {}", ctx.channel().remoteAddress(),
                        reason(e.cause()));
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (cause instanceof SSLException || cause instanceof DecoderException d
                && (d.getCause() instanceof SSLException || d.getCause() instanceof NotSslRecordException)) {
            log.debug("TLS error on connection {}: {}", ctx.channel().remoteAddress(), reason(cause));
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    private static String reason(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
