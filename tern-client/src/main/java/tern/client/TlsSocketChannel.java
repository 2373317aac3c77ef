package tern.client;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SocketChannel;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Arrays;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A blocking {@link SocketChannel} that runs TLS (the JDK's {@link SSLSocket}) over a connected
 * plain one, so the rest of the client reads and writes it like the plain channel. Reads and writes
 * may run on different threads at once (SSLSocket is full duplex). Closing closes the TCP socket
 * first, which unblocks a reader or writer at once (no close_notify is waited for).
 */
final class TlsSocketChannel extends SocketChannel {
    /** Protocols offered; anything older is refused by the JDK and by the Tern broker. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** A TLS record carries at most 16 KiB of plaintext: copy in chunks of that size. */
    private static final int CHUNK_BYTES = 16 << 10;

    private final SocketChannel raw;
    private final SSLSocket ssl;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] readChunk = new byte[CHUNK_BYTES];
    private final byte[] writeChunk = new byte[CHUNK_BYTES];

    private TlsSocketChannel(SocketChannel raw, SSLSocket ssl) throws IOException {
        super(raw.provider());
        this.raw = raw;
        this.ssl = ssl;
        this.in = ssl.getInputStream();
        this.out = ssl.getOutputStream();
    }

    /**
     * Runs the TLS handshake over the connected raw channel. A failure throws TernException saying
     * what went wrong in words (untrusted certificate, host mismatch, server closed the connection);
     * the caller closes raw. The caller's connect timeout bounds it by closing raw.
     */
    static SocketChannel handshake(SocketChannel raw, String host, int port, TlsOptions options) throws IOException {
        String where = host + ":" + port;
        SSLContext context;
        try {
            context = TlsFiles.context(options);
        } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
            throw new TernException("TLS setup for " + where + " failed: " + e.getMessage(), e);
        }
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(raw.socket(), host, port, true);
        try {
            ssl.setUseClientMode(true);
            String[] supported = ssl.getSupportedProtocols();
            ssl.setEnabledProtocols(Arrays.stream(PROTOCOLS).filter(p -> Arrays.asList(supported).contains(p))
                    .toArray(String[]::new));
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm(options.verifyHostname() ? "HTTPS" : null);
            ssl.setSSLParameters(params);
            ssl.startHandshake();
            // TLS 1.3 reports a refused client certificate only in the server's first record after the
            // handshake: the broker sends nothing before WELCOME, so it surfaces on the first read.
            return new TlsSocketChannel(raw, ssl);
        } catch (SSLException e) {
            throw new TernException("TLS handshake with " + where + " failed: " + explain(e, host, options), e);
        }
    }

    /** Words for the usual handshake failures. */
    static String explain(Throwable e, String host, TlsOptions options) {
        String alert = String.valueOf(e.getMessage());
        if (alert.contains("bad_certificate") || alert.contains("certificate_required") || alert.contains("unknown_ca")
                || alert.contains("certificate_expired") || alert.contains("certificate_unknown")
                || alert.contains("unsupported_certificate")) {
            return "the server refused this client's certificate" + (options.clientCertFile() == null
                    ? " (none was given: set tlsClientCert and tlsClientKey)" : " " + options.clientCertFile())
                    + " [" + alert + "]";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException || t instanceof SocketException
                    || String.valueOf(t.getMessage()).contains("Remote host terminated")) {
                return "the server closed the connection during the TLS handshake (a plaintext Tern port closes "
                        + "a TLS ClientHello at once; a TLS port closes on a client certificate it refuses) ["
                        + t.getMessage() + "]";
            }
            if (t instanceof CertificateException ce && String.valueOf(ce.getMessage()).contains("match")
                    || String.valueOf(t.getMessage()).contains("No subject alternative")) {
                return "the server certificate does not name host '" + host + "' (hostname verification; "
                        + "tlsVerifyHostname(false) turns it off, which is unsafe) [" + t.getMessage() + "]";
            }
            if (t instanceof CertPathValidatorException || String.valueOf(t.getMessage()).contains("PKIX")) {
                return "the server certificate is not trusted (" + (options.caFile() == null
                        ? "no tlsCaFile given: set it to the CA that signed the server certificate"
                        : "it does not chain to " + options.caFile()) + ") [" + t.getMessage() + "]";
            }
        }
        if (e instanceof SSLHandshakeException && String.valueOf(e.getMessage()).contains("protocol")) {
            return "no TLS protocol version in common (this client offers TLSv1.3 and TLSv1.2) [" + e.getMessage() + "]";
        }
        return String.valueOf(e.getMessage());
    }

    // ---- I/O ----------------------------------------------------------------------------------------

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int want = Math.min(dst.remaining(), CHUNK_BYTES);
        if (want == 0) {
            return 0;
        }
        int n;
        if (dst.hasArray()) {
            n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
        } else {
            n = in.read(readChunk, 0, want);
            if (n > 0) {
                dst.put(readChunk, 0, n);
            }
        }
        return n;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].hasRemaining()) {
                return read(dsts[i]);
            }
        }
        return 0;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int total = src.remaining();
        if (src.hasArray()) {
            out.write(src.array(), src.arrayOffset() + src.position(), total);
            src.position(src.limit());
            return total;
        }
        synchronized (writeChunk) {
            while (src.hasRemaining()) {
                int n = Math.min(src.remaining(), CHUNK_BYTES);
                src.get(writeChunk, 0, n);
                out.write(writeChunk, 0, n);
            }
        }
        return total;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
            n += write(srcs[i]);
        }
        return n;
    }

    /** The TLS socket (its session tells the protocol, suite and peer certificates). */
    @Override
    public Socket socket() {
        return ssl;
    }

    @Override
    protected void implCloseSelectableChannel() throws IOException {
        try {
            raw.close();
        } finally {
            ssl.close();
        }
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        if (!block) {
            throw new IllegalBlockingModeException();
        }
    }

    // ---- plain delegation -----------------------------------------------------------------------------

    @Override
    public SocketChannel bind(SocketAddress local) throws IOException {
        raw.bind(local);
        return this;
    }

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        raw.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return raw.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return raw.supportedOptions();
    }

    @Override
    public SocketChannel shutdownInput() throws IOException {
        raw.shutdownInput();
        return this;
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        raw.shutdownOutput();
        return this;
    }

    @Override
    public boolean isConnected() {
        return raw.isConnected();
    }

    @Override
    public boolean isConnectionPending() {
        return raw.isConnectionPending();
    }

    @Override
    public boolean connect(SocketAddress remote) {
        throw new UnsupportedOperationException("already connected");
    }

    @Override
    public boolean finishConnect() {
        return true;
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        return raw.getRemoteAddress();
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        return raw.getLocalAddress();
    }
}
