package tern.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.Confirm;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.ConsumeOptions;
import tern.client.QueueOptions;
import tern.client.Tern;

/**
 * Bounded throughput check of the W4 workload through the real broker and client (not a test; speed is never
 * asserted): one producer sending 1 KiB messages to a durable queue (fsync before confirm, group commit) with up
 * to 1000 unconfirmed, one consumer acking each delivery. Prints confirmed and acked messages per second.
 *
 * <p>Args: [seconds (default 10)] [payloadBytes (default 1024)] [maxUnconfirmed (default 1000)] [dataDir (default:
 * a temporary directory, deleted after)].
 */
public final class QueueThroughputCheck {
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int payloadBytes = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        Path dir = args.length > 3 ? Path.of(args[3]) : Files.createTempDirectory("tern-queue-throughput");
        if (seconds < 1 || seconds > 600) {
            throw new IllegalArgumentException("seconds " + seconds + " outside 1..600");
        }
        AtomicLong acked = new AtomicLong();
        AtomicLong confirmed = new AtomicLong();
        try (TernBroker broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir));
             Connection producer = Tern.connect(ConnectOptions.builder().port(broker.port()).maxUnconfirmed(window)
                     .build());
             Connection consumer = Tern.connect(ConnectOptions.builder().port(broker.port()).build())) {
            producer.declareQueue("w4", QueueOptions.durableQueue());
            consumer.consume("w4", ConsumeOptions.defaults().withPrefetch(window), d -> {
                d.ack();
                acked.incrementAndGet();
            });
            byte[] payload = new byte[payloadBytes];
            long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.min(3, seconds));
            long start = 0;
            long confirmedAtStart = 0;
            long ackedAtStart = 0;
            long end = Long.MAX_VALUE;
            CompletableFuture<Confirm> last = null;
            while (true) {
                long now = System.nanoTime();
                if (start == 0 && now >= warmupEnd) {
                    start = now;
                    confirmedAtStart = confirmed.get();
                    ackedAtStart = acked.get();
                    end = start + TimeUnit.SECONDS.toNanos(seconds);
                }
                if (now >= end) {
                    break;
                }
                last = producer.send("w4", payload);
                last.thenRun(confirmed::incrementAndGet);
            }
            long elapsed = System.nanoTime() - start;
            double secs = elapsed / 1e9;
            long c = confirmed.get() - confirmedAtStart;
            long a = acked.get() - ackedAtStart;
            System.out.printf("W4 %d B, window %d, %.1f s: %.0f confirmed msgs/s, %.0f acked msgs/s (fsynced=%s)%n",
                    payloadBytes, window, secs, c / secs, a / secs, last.get(10, TimeUnit.SECONDS).fsynced());
            System.out.println(producer.listQueues());
            consumer.flush(Duration.ofSeconds(10));
        } finally {
            if (args.length <= 3) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
