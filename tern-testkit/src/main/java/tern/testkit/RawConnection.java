package tern.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;

import tern.protocol.Frame;
import tern.protocol.FrameDecoder;
import tern.protocol.Frames;
import tern.protocol.Limits;

/**
 * A rude or precise peer for tests: a plain socket that sends exactly the bytes or frames it is
 * told to and reads frames back one at a time. Nothing is hidden: no reconnects, no heartbeats.
 */
public final class RawConnection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final FrameDecoder decoder = new FrameDecoder(Limits.ABSOLUTE_MAX_FRAME_BYTES);
    private ByteBuffer buffer = ByteBuffer.allocate(64 << 10);

    private RawConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public static RawConnection open(String host, int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), 5_000);
        return new RawConnection(s);
    }

    /** Opens, sends the preface and HELLO, and returns the server's answer (WELCOME or ERROR). */
    public static RawConnection handshake(String host, int port) throws IOException {
        RawConnection c = open(host, port);
        c.sendPreface();
        c.send(hello("raw-test"));
        Frame answer = c.receive(Duration.ofSeconds(5));
        if (!(answer instanceof Frame.Welcome)) {
            c.close();
            throw new IOException("expected WELCOME, got " + answer);
        }
        return c;
    }

    public static Frame.Hello hello(String name) {
        return new Frame.Hello(Frame.VERSION, Frame.VERSION, 0, 0, name, "test", "", new byte[0]);
    }

    public static Frame.Sub sub(int sid, String subject) {
        return new Frame.Sub(sid, true, subject, null, tern.protocol.SlowConsumerPolicy.DROP_OLDEST, 0);
    }

    public static Frame.Pub pub(String subject, byte[] payload) {
        return new Frame.Pub(0, false, subject, null, Map.of(), payload);
    }

    public void sendPreface() throws IOException {
        sendBytes(Frame.PREFACE);
    }

    public void send(Frame frame) throws IOException {
        ByteBuffer b = Frames.encode(frame);
        out.write(b.array(), 0, b.limit());
        out.flush();
    }

    public void sendBytes(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * The next frame, or null when none arrives within the timeout. Throws EOFException-like
     * IOException when the server closed the connection.
     */
    public Frame receive(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int n = decoder.nextFrameBytes(buffer, 0, buffer.position());
            if (n != FrameDecoder.NEED_MORE) {
                Frame f = Frames.decode(ByteBuffer.wrap(buffer.array(), 0, n).slice());
                buffer.flip().position(n);
                buffer.compact();
                return f;
            }
            int frameBytes = buffer.position() >= Frame.PREFIX_BYTES ? Frame.PREFIX_BYTES + buffer.getInt(0) : 0;
            if (frameBytes > buffer.capacity()) {
                ByteBuffer bigger = ByteBuffer.allocate(frameBytes);
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
            int read;
            try {
                read = in.read(buffer.array(), buffer.position(), buffer.remaining());
            } catch (SocketTimeoutException e) {
                return null;
            }
            if (read < 0) {
                throw new ClosedByPeerException("connection closed by the server after "
                        + buffer.position() + " unread bytes");
            }
            buffer.position(buffer.position() + read);
        }
    }

    /** Receives frames until one of the given type arrives (skipping PINGs and others), or null at the deadline. */
    public <T extends Frame> T receive(Class<T> type, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Frame f = receive(Duration.ofNanos(left));
            if (type.isInstance(f)) {
                return type.cast(f);
            }
        }
    }

    /** True when the server closes the connection within the timeout (frames before the close are skipped). */
    public boolean awaitClosed(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                receive(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            }
            return false;
        } catch (ClosedByPeerException e) {
            return true;
        } catch (IOException e) {
            // a reset is a close too
            return true;
        }
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The peer closed the connection. */
    public static final class ClosedByPeerException extends IOException {
        public ClosedByPeerException(String message) {
            super(message);
        }
    }
}
