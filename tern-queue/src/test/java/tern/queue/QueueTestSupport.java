package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import tern.storage.LogConfig;

/** An engine on a temp directory driven by a manual clock; small segments so retention is visible. */
abstract class QueueTestSupport {
    static final byte[] NO_HEADERS = new byte[0];

    @TempDir
    Path dir;
    final ManualTime time = new ManualTime();
    QueueEngine engine;
    LogConfig logConfig = LogConfig.DEFAULT.withSegmentBytes(64 << 10);
    QueueLimits limits = QueueLimits.DEFAULT.withMaxMessageBytes(16 << 10);

    QueueEngine open() {
        engine = QueueEngine.open(QueueEngineConfig.of(dir, limits, logConfig), time, time);
        return engine;
    }

    void reopen() {
        engine.close();
        open();
    }

    @AfterEach
    void closeEngine() {
        if (engine != null) {
            engine.close();
        }
    }

    /** Polls to a deadline, running due scheduler tasks (settlements after confirms) on the way. */
    void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            time.runDue();
            if (condition.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    Receipt publish(String queue, String payload) {
        Receipt r = new Receipt();
        engine.publish(queue, "subj." + queue, NO_HEADERS, bytes(payload), r);
        return r;
    }

    Receipt.Confirmed confirmed(String queue, String payload) throws Exception {
        return publish(queue, payload).await();
    }

    void publishAll(String queue, String... payloads) throws Exception {
        for (String p : payloads) {
            confirmed(queue, p);
        }
    }

    static String text(Delivery d) {
        return new String(d.payload(), StandardCharsets.UTF_8);
    }

    void assertDepth(String queue, long depth, long unacked) {
        QueueInfo i = engine.info(queue);
        assertThat(i.depth()).as("depth of " + queue).isEqualTo(depth);
        assertThat(i.unacked()).as("unacked of " + queue).isEqualTo(unacked);
    }
}
