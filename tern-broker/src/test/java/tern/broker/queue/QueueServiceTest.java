package tern.broker.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.broker.Poll;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.queue.QueueInfo;
import tern.queue.QueueLimits;
import tern.queue.QueueOptions;

/** The broker's cache of which queues a published subject is bound to (QueueService.publishBound). */
@Timeout(30)
class QueueServiceTest {
    @TempDir
    Path dir;

    private QueueService service;

    @BeforeEach
    void open() {
        service = QueueService.open(dir, QueueLimits.DEFAULT);
    }

    @AfterEach
    void close() {
        service.close();
    }

    /** Routes a PUB on subject as a session does: through the cache of bound queues. */
    private void publish(String subject) {
        ByteBuf pub = Unpooled.wrappedBuffer(Frames.encode(Frames.publish(subject,
                "x".getBytes(StandardCharsets.UTF_8))));
        try {
            service.publishBound(pub, 0, pub.readableBytes(), Limits.DEFAULT.maxSubjectBytes(),
                    Limits.DEFAULT.maxHeaders());
        } finally {
            pub.release();
        }
    }

    private long depth(String queue) {
        return service.engine().info(queue).depth();
    }

    @Test
    void anExpiredQueueLeavesTheBindingCache() {
        service.engine().declare("tap", QueueOptions.TRANSIENT.withExpiryMillis(1_000));
        service.engine().bind("tap", "tap.*");
        service.bindingsChanged(); // as QueueSession does after a bind
        publish("tap.x");
        assertThat(service.cachedBoundQueues("tap.x")).containsExactly("tap");
        assertThat(service.hasBindings()).isTrue();

        Poll.until("queue 'tap' expired", Duration.ofSeconds(10),
                () -> service.engine().list().stream().map(QueueInfo::name).noneMatch("tap"::equals));

        // A new queue of the same name, declared without bindings (the declare is ordered after the expiry's
        // hook), must capture nothing: the broker must not keep routing by the expired queue's binding.
        service.engine().declare("tap", QueueOptions.TRANSIENT);
        assertThat(service.cachedBoundQueues("tap.x")).as("cached bound queues of tap.x after expiry").isNull();
        assertThat(service.hasBindings()).as("no queue has a binding any more").isFalse();
        publish("tap.x");
        assertThat(depth("tap")).isZero();
        assertThat(service.engine().queuesBoundTo("tap.x")).isEmpty();
    }
}
