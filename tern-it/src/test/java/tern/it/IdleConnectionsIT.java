package tern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.protocol.Frame;
import tern.protocol.Frames;
import tern.testkit.BrokerProcess;
import tern.testkit.RawConnection;

/**
 * Memory of a broker (child JVM, {@link BrokerProcess}'s flags) idle and holding 10,000 concurrent
 * idle client connections that completed the handshake. Records the resident set size (VmRSS) and
 * prints it; asserts only a generous bound (the target is under 600 MB) and that the broker still
 * answers a new client.
 */
@Timeout(300)
class IdleConnectionsIT {
    static final int CONNECTIONS = 10_000;
    /** Connections opened (and greeted) before their WELCOMEs are read: bounded by the accept backlog. */
    static final int BATCH = 500;
    /** File descriptors this JVM needs beyond the connections (jars, sockets of the harness). */
    static final int SPARE_FDS = 1_000;
    static final long GENEROUS_RSS_BYTES = 2L << 30;

    @TempDir
    Path dir;

    @Test
    void tenThousandIdleConnectionsFitInBoundedMemory() throws Exception {
        long fdLimit = openFileLimit();
        assumeTrue(fdLimit >= CONNECTIONS + SPARE_FDS, "ulimit -n is " + fdLimit + " here; this test needs "
                + (CONNECTIONS + SPARE_FDS) + " (run it with `ulimit -n 65536`)");
        List<SocketChannel> open = new ArrayList<>(CONNECTIONS);
        try (BrokerProcess broker = BrokerProcess.start(dir.resolve("data"), 0, List.of(
                "max_connections_per_address=" + (CONNECTIONS + 100),
                "max_new_connections_per_second_per_address=" + (CONNECTIONS * 10)))) {
            ping(broker.port());
            long idle = rssBytes(broker.pid());
            ByteBuffer greeting = greeting();
            while (open.size() < CONNECTIONS) {
                List<SocketChannel> batch = new ArrayList<>(BATCH);
                for (int i = 0; i < BATCH && open.size() + batch.size() < CONNECTIONS; i++) {
                    SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", broker.port()));
                    batch.add(ch);
                    ByteBuffer g = greeting.duplicate();
                    while (g.hasRemaining()) {
                        ch.write(g);
                    }
                }
                for (SocketChannel ch : batch) {
                    Frame f = readFrame(ch);
                    assertThat(f).as("connection %d", open.size()).isInstanceOf(Frame.Welcome.class);
                    open.add(ch);
                }
            }
            ping(broker.port());
            long loaded = rssBytes(broker.pid());
            System.out.printf(Locale.ROOT, "IdleConnectionsIT: broker RSS idle %.1f MiB; with %,d idle connections "
                    + "%.1f MiB (%.1f KiB per connection)%n", idle / 1048576.0, open.size(), loaded / 1048576.0,
                    (loaded - idle) / 1024.0 / open.size());
            assertThat(open).hasSize(CONNECTIONS);
            assertThat(loaded).isLessThan(GENEROUS_RSS_BYTES);
        } finally {
            for (SocketChannel ch : open) {
                ch.close();
            }
        }
    }

    /** A new client still gets WELCOME and a PONG. */
    private static void ping(int port) throws IOException {
        try (RawConnection c = RawConnection.handshake("127.0.0.1", port)) {
            c.send(new Frame.Ping(7));
            assertThat(c.receive(Frame.Pong.class, Duration.ofSeconds(30)).id()).isEqualTo(7);
        }
    }

    private static ByteBuffer greeting() {
        ByteBuffer hello = Frames.encode(RawConnection.hello("idle"));
        ByteBuffer g = ByteBuffer.allocate(Frame.PREFACE.length + hello.remaining());
        g.put(Frame.PREFACE).put(hello).flip();
        return g;
    }

    private static Frame readFrame(SocketChannel ch) throws IOException {
        ByteBuffer prefix = ByteBuffer.allocate(Frame.PREFIX_BYTES);
        readFully(ch, prefix);
        int length = prefix.getInt(0);
        assertThat(length).isBetween(Frame.HEADER_BYTES, 1 << 16);
        ByteBuffer frame = ByteBuffer.allocate(Frame.PREFIX_BYTES + length);
        frame.putInt(length);
        readFully(ch, frame);
        return Frames.decode(frame.flip());
    }

    private static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("broker closed a connection during the handshake");
            }
        }
    }

    private static long rssBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
    }

    /** The soft limit on open files of this process, from /proc/self/limits. */
    private static long openFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        return 0;
    }
}
