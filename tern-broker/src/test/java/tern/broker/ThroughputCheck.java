package tern.broker;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Map;
import tern.protocol.Frame;

/**
 * A bounded sanity check, not a benchmark: one raw publisher, one raw subscriber, small messages,
 * through an in-process broker. Run: java -cp ... tern.broker.ThroughputCheck [messages] [payloadBytes].
 * The official numbers come from {@code tern bench}.
 */
public final class ThroughputCheck {
    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int payloadBytes = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0));
             RawClient sub = RawClient.open(broker.port());
             Socket pubSocket = new Socket("127.0.0.1", broker.port())) {
            sub.sub(1, "bench.subject");
            sub.sync();
            pubSocket.setTcpNoDelay(true);
            OutputStream out = pubSocket.getOutputStream();
            DataInputStream pubIn = new DataInputStream(new BufferedInputStream(pubSocket.getInputStream()));
            out.write(Frame.PREFACE);
            out.write(RawClient.bytes(RawClient.hello(0)));
            pubIn.readInt();
            byte[] one = RawClient.bytes(new Frame.Pub(0, false, "bench.subject", null, Map.of(), new byte[payloadBytes]));
            int perWrite = Math.max(1, (64 << 10) / one.length);
            byte[] chunk = new byte[one.length * perWrite];
            for (int i = 0; i < perWrite; i++) {
                System.arraycopy(one, 0, chunk, i * one.length, one.length);
            }
            long start = System.nanoTime();
            Thread publisher = new Thread(() -> {
                try {
                    for (int sent = 0; sent < messages; sent += perWrite) {
                        int n = Math.min(perWrite, messages - sent);
                        out.write(chunk, 0, n * one.length);
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            publisher.start();
            // Count MSG frames without decoding them fully.
            DataInputStream in = new DataInputStream(new BufferedInputStream(
                    subSocketStream(sub), 256 << 10));
            byte[] body = new byte[64 << 10];
            int received = 0;
            while (received < messages) {
                int len = in.readInt();
                in.readFully(body, 0, len);
                if (body[0] == 0x13) {
                    received++;
                }
            }
            long nanos = System.nanoTime() - start;
            publisher.join();
            System.out.printf("%d msgs of %d B payload in %.2f s: %.0f msgs/s end to end (%s)%n", messages,
                    payloadBytes, nanos / 1e9, messages / (nanos / 1e9), broker.stats());
            roundTrips(broker.port(), 20_000);
        }
    }

    /** Publish one message and wait for it to come back on the same connection, n times. */
    private static void roundTrips(int port, int n) throws Exception {
        try (RawClient c = RawClient.open(port)) {
            c.sub(1, "rtt");
            c.sync();
            long[] nanos = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                c.pub("rtt", "x");
                c.read();
                nanos[i] = System.nanoTime() - t0;
            }
            java.util.Arrays.sort(nanos);
            System.out.printf("round trip over %d: p50 %.1f us, p99 %.1f us%n", n, nanos[n / 2] / 1e3,
                    nanos[n * 99 / 100] / 1e3);
        }
    }

    private static java.io.InputStream subSocketStream(RawClient c) throws Exception {
        java.lang.reflect.Field f = RawClient.class.getDeclaredField("socket");
        f.setAccessible(true);
        return ((Socket) f.get(c)).getInputStream();
    }


    private ThroughputCheck() {
    }
}
