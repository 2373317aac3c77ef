package tern.broker;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import tern.protocol.Frame;
import tern.protocol.Frames;
import tern.protocol.SlowConsumerPolicy;

/** A blocking raw-socket Tern client for black-box tests: writes and reads exact frames. */
public final class RawClient implements AutoCloseable {
    /** Largest frame this test client reads. */
    private static final int MAX_READ_FRAME_BYTES = 64 << 20;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int nextId = 1;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 64 << 10));
        this.out = socket.getOutputStream();
    }

    /** Connects without sending anything. receiveBufferBytes 0 = OS default. */
    public static RawClient connect(int port, int receiveBufferBytes) throws IOException {
        Socket s = new Socket();
        if (receiveBufferBytes > 0) {
            s.setReceiveBufferSize(receiveBufferBytes);
        }
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return new RawClient(s);
    }

    public static RawClient connect(int port) throws IOException {
        return connect(port, 0);
    }

    /** Connects, sends PREFACE + HELLO, and returns after reading WELCOME. */
    public static RawClient open(int port) throws IOException {
        return open(port, 0);
    }

    public static RawClient open(int port, int receiveBufferBytes) throws IOException {
        RawClient c = connect(port, receiveBufferBytes);
        c.hello();
        Frame f = c.read();
        if (!(f instanceof Frame.Welcome)) {
            throw new AssertionError("expected WELCOME, got " + f);
        }
        return c;
    }

    public static Frame.Hello hello(int maxFrameBytes) {
        return new Frame.Hello(1, 1, maxFrameBytes, 0, "raw-test", "0", "", new byte[0]);
    }

    public void hello() throws IOException {
        ByteBuffer h = Frames.encode(hello(0));
        byte[] bytes = new byte[Frame.PREFACE.length + h.remaining()];
        System.arraycopy(Frame.PREFACE, 0, bytes, 0, Frame.PREFACE.length);
        h.get(bytes, Frame.PREFACE.length, h.remaining());
        sendRaw(bytes);
    }

    public int nextId() {
        return nextId++;
    }

    public void send(Frame frame) throws IOException {
        ByteBuffer b = Frames.encode(frame);
        out.write(b.array(), 0, b.limit());
        out.flush();
    }

    public static byte[] bytes(Frame frame) {
        ByteBuffer b = Frames.encode(frame);
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void sub(int sid, String subject) throws IOException {
        send(new Frame.Sub(sid, false, subject, null, SlowConsumerPolicy.DROP_OLDEST, 0));
    }

    public void sub(int sid, String subject, String queue) throws IOException {
        send(new Frame.Sub(sid, false, subject, queue, SlowConsumerPolicy.DROP_OLDEST, 0));
    }

    public void pub(String subject, String payload) throws IOException {
        send(new Frame.Pub(0, false, subject, null, Map.of(), payload.getBytes()));
    }

    /** PING with a fresh id, then reads until its PONG; returns the frames read before it. */
    public java.util.List<Frame> sync() throws IOException {
        int id = nextId();
        send(new Frame.Ping(id));
        java.util.List<Frame> before = new java.util.ArrayList<>();
        while (true) {
            Frame f = read();
            if (f instanceof Frame.Pong p && p.id() == id) {
                return before;
            }
            before.add(f);
        }
    }

    /** Reads one frame, waiting at most 5 s. */
    public Frame read() throws IOException {
        return read(Duration.ofSeconds(5));
    }

    public Frame read(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        int length = in.readInt();
        if (length < Frame.HEADER_BYTES || length > MAX_READ_FRAME_BYTES) {
            throw new AssertionError("server sent frame length " + length);
        }
        byte[] frame = new byte[Frame.PREFIX_BYTES + length];
        ByteBuffer.wrap(frame).putInt(length);
        in.readFully(frame, Frame.PREFIX_BYTES, length);
        return Frames.decode(ByteBuffer.wrap(frame));
    }

    /** Reads (skipping PINGs from the server) until a frame matches; fails after timeout. */
    public Frame readUntil(Predicate<Frame> wanted, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no matching frame within " + timeout);
            }
            Frame f = read(Duration.ofNanos(left));
            if (wanted.test(f)) {
                return f;
            }
        }
    }

    /** The next frame, which must be an ERROR; returns it. */
    public Frame.Error readError() throws IOException {
        Frame f = readUntil(x -> !(x instanceof Frame.Ping), Duration.ofSeconds(5));
        if (!(f instanceof Frame.Error e)) {
            throw new AssertionError("expected ERROR, got " + f);
        }
        return e;
    }

    /** True when the server closed the connection (EOF or reset) within timeout, reading and discarding frames. */
    public boolean closedByPeer(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | SocketException e) {
            return true;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
