/*
 * Probe (not part of the build): fills a broker's durable queue "mem" with N x 1 KiB messages, then holds U of them
 * unacked (a consumer with prefetch U that never acks) for MILLIS, so `jcmd <broker pid> GC.class_histogram` shows
 * what a held message costs on the heap. docs/benchmarks.md ("Memory and connections") records the result.
 *   bin/tern broker --port 7432 --data /tmp/memdata        (TERN_BROKER_JAVA_OPTS="-Xmx1g -XX:+UseSerialGC")
 *   java -cp tern-cli/target/tern-cli-*-all.jar bench/probes/QueueHeapProbe.java 7432 N U MILLIS
 */
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.QueueOptions;
import tern.client.Tern;

public class QueueHeapProbe {
    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]);
        int n = Integer.parseInt(a[1]);
        int unacked = Integer.parseInt(a[2]);
        try (Connection c = Tern.connect("127.0.0.1", port)) {
            c.declareQueue("mem", QueueOptions.durableQueue());
            byte[] kib = new byte[1024];
            CompletableFuture<?> last = null;
            for (int i = 0; i < n; i++) {
                last = c.send("mem", kib);
            }
            last.get(60, TimeUnit.SECONDS);
            AtomicLong held = new AtomicLong();
            if (unacked > 0) {
                c.consume("mem", ConsumeOptions.defaults().withPrefetch(unacked), d -> held.incrementAndGet());
            }
            while (held.get() < unacked) {
                Thread.sleep(10);
            }
            System.out.println("holding: sent " + n + ", unacked " + held.get() + "; run jcmd on the broker now");
            Thread.sleep(Long.parseLong(a[3]));
        }
    }
}
