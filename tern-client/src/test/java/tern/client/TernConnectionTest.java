package tern.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.Frames;

/** The client against a scripted peer speaking raw frames: handshake, heartbeats and rude servers. */
@Timeout(20)
class TernConnectionTest {
    private ServerSocket server;

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        server.setSoTimeout(10_000);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private static Frame.Welcome welcome(int maxFrameBytes) {
        return new Frame.Welcome(1, maxFrameBytes, 256, 64, 100, 30_000, 90_000, 0, "test-server", "0.0.1", new byte[0]);
    }

    private static Frame readFrame(DataInputStream in) throws IOException {
        int length = in.readInt();
        byte[] frame = new byte[4 + length];
        ByteBuffer.wrap(frame).putInt(length);
        in.readFully(frame, 4, length);
        return Frames.decode(ByteBuffer.wrap(frame));
    }

    private static void send(Socket s, Frame f) throws IOException {
        ByteBuffer b = Frames.encode(f);
        OutputStream out = s.getOutputStream();
        out.write(b.array(), 0, b.limit());
        out.flush();
    }

    /** Accepts one client, checks PREFACE + HELLO, answers with the given frame. */
    private CompletableFuture<Socket> acceptAndAnswer(Frame answer, List<Frame.Hello> hellos) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Socket s = server.accept();
                s.setSoTimeout(10_000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] preface = new byte[Frame.PREFACE.length];
                in.readFully(preface);
                assertThat(preface).isEqualTo(Frame.PREFACE);
                hellos.add((Frame.Hello) readFrame(in));
                if (answer != null) {
                    send(s, answer);
                }
                return s;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private ConnectOptions.Builder options() {
        return ConnectOptions.builder().host("127.0.0.1").port(server.getLocalPort()).reconnect(false)
                .connectTimeout(Duration.ofSeconds(5));
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    @Test
    void sendsPrefaceAndHelloThenRecordsWelcomeAndAnswersPings() throws Exception {
        List<Frame.Hello> hellos = new CopyOnWriteArrayList<>();
        CompletableFuture<Socket> peer = acceptAndAnswer(welcome(4096), hellos);
        try (Connection c = Tern.connect(options().name("unit").maxFrameBytes(2048).build());
             Socket s = peer.get(10, TimeUnit.SECONDS)) {
            Frame.Hello hello = hellos.get(0);
            assertThat(hello.clientName()).isEqualTo("unit");
            assertThat(hello.maxFrameBytes()).isEqualTo(2048);
            assertThat(hello.authMechanism()).isEmpty();
            assertThat(c.status()).isEqualTo(ConnectionStatus.CONNECTED);
            assertThat(c.serverInfo().serverId()).isEqualTo("test-server");
            assertThat(c.serverInfo().maxFrameBytes()).isEqualTo(2048);
            assertThat(c.serverInfo().maxSubscriptions()).isEqualTo(100);

            send(s, new Frame.Ping(77));
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertThat(readFrame(in)).isEqualTo(new Frame.Pong(77));

            // The client enforces the negotiated maximum before sending.
            assertThatThrownBy(() -> c.publish("a", new byte[2048])).isInstanceOf(IllegalArgumentException.class);
            c.publish("a", new byte[10]);
            Frame.Pub pub = (Frame.Pub) readFrame(in);
            assertThat(pub.subject()).isEqualTo("a");
            assertThat(pub.payload()).hasSize(10);
        }
    }

    @Test
    void errorInsteadOfWelcomeIsATypedServerException() {
        List<Frame.Hello> hellos = new CopyOnWriteArrayList<>();
        acceptAndAnswer(new Frame.Error(0, ErrorCode.AUTH_REQUIRED.code(), true, "log in first"), hellos);
        assertThatThrownBy(() -> Tern.connect(options().build()))
                .isInstanceOfSatisfying(ServerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.AUTH_REQUIRED);
                    assertThat(e.text()).isEqualTo("log in first");
                });
    }

    @Test
    void silentServerFailsTheHandshakeWithinTheConnectTimeout() {
        List<Frame.Hello> hellos = new CopyOnWriteArrayList<>();
        acceptAndAnswer(null, hellos);
        assertThatThrownBy(() -> Tern.connect(options().connectTimeout(Duration.ofMillis(300)).build()))
                .isInstanceOf(TernException.class)
                .hasMessageContaining("timed out");
    }

    @Test
    void frameLongerThanTheNegotiatedMaxEndsTheConnection() throws Exception {
        List<Frame.Hello> hellos = new CopyOnWriteArrayList<>();
        CompletableFuture<Socket> peer = acceptAndAnswer(welcome(1024), hellos);
        List<ConnectionEvent> events = new CopyOnWriteArrayList<>();
        ConnectionListener listener = (event, connection) -> events.add(event);
        try (Connection c = Tern.connect(options().listener(listener).build());
             Socket s = peer.get(10, TimeUnit.SECONDS)) {
            // A MSG header claiming 5000 bytes: rejected on its length, before anything is buffered for it.
            ByteBuffer lie = ByteBuffer.allocate(12).putInt(5000).put((byte) 0x13).put((byte) 0).putShort((short) 0).putInt(1);
            s.getOutputStream().write(lie.array());
            s.getOutputStream().flush();
            await("CLOSED", () -> c.status() == ConnectionStatus.CLOSED);
            await("events", () -> events.contains(ConnectionEvent.CLOSED));
            assertThat(events).containsSubsequence(ConnectionEvent.CONNECTED, ConnectionEvent.DISCONNECTED,
                    ConnectionEvent.CLOSED);
        }
    }

    @Test
    void refusedConnectionIsATernException() throws IOException {
        int port = server.getLocalPort();
        server.close();
        assertThatThrownBy(() -> Tern.connect("127.0.0.1", port)).isInstanceOf(TernException.class)
                .hasMessageContaining("127.0.0.1:" + port);
    }
}
