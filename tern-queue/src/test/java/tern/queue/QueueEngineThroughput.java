package tern.queue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A bounded measurement, not a test (tests never assert speed): one durable queue, fsync before confirm (group
 * commit), 1 KiB messages, one producer with up to 1000 unconfirmed publishes, one consumer acking each delivery.
 * Run: {@code java -cp <test+main classpath> tern.queue.QueueEngineThroughput [messages] [dir]}. Prints msgs/s.
 */
public final class QueueEngineThroughput {
    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("tern-queue-bench");
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try (QueueEngine engine = QueueEngine.open(QueueEngineConfig.defaults(dir), QueueClock.SYSTEM,
                QueueScheduler.of(timers))) {
            engine.declare("bench", QueueOptions.DURABLE);
            AtomicLong acked = new AtomicLong();
            engine.subscribe("bench", 1000, d -> {
                engine.ack("bench", d.token());
                acked.incrementAndGet();
                return true;
            });
            Semaphore window = new Semaphore(1000);
            AtomicLong failures = new AtomicLong();
            PublishCallback confirm = new PublishCallback() {
                @Override
                public void confirmed(long offset, boolean fsynced) {
                    window.release();
                }

                @Override
                public void failed(QueueException error) {
                    failures.incrementAndGet();
                    window.release();
                }
            };
            byte[] payload = new byte[1024];
            byte[] headers = new byte[0];
            for (int round = 0; round < 2; round++) {
                long start = System.nanoTime();
                long deadline = start + TimeUnit.SECONDS.toNanos(30);
                int sent = 0;
                for (; sent < messages && System.nanoTime() < deadline; sent++) {
                    window.acquire();
                    engine.publish("bench", "bench.s", headers, payload, confirm);
                }
                window.acquire(1000);
                window.release(1000);
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("%s: %d msgs confirmed+acked in %.2f s = %.0f msgs/s (failures %d, acked %d)%n",
                        round == 0 ? "warm-up" : "measured", sent, seconds, sent / seconds, failures.get(),
                        acked.get());
            }
        } finally {
            timers.shutdownNow();
            if (args.length < 2) {
                try (Stream<Path> s = Files.walk(dir)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private QueueEngineThroughput() {
    }
}
