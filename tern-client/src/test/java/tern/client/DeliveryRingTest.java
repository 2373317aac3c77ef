package tern.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class DeliveryRingTest {
    @Test
    @Timeout(20)
    void deliversEveryPairInOrderThroughASmallRing() throws Exception {
        DeliveryRing ring = new DeliveryRing(8);
        int count = 200_000;
        List<Integer> got = new ArrayList<>(count);
        Thread consumer = new Thread(() -> ring.consume((target, item) -> {
            assertThat(target).isSameAs(ring);
            got.add((Integer) item);
        }));
        consumer.start();
        for (int i = 0; i < count; i++) {
            assertThat(ring.offer(ring, i)).isTrue();
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ring.isIdle() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        ring.close();
        consumer.join(5000);
        assertThat(consumer.isAlive()).isFalse();
        assertThat(got).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(got.get(i)).isEqualTo(i);
        }
    }

    @Test
    @Timeout(20)
    void lazilyOfferedPairsReachTheConsumerWhenTheRingFills() throws Exception {
        // Without a signal when full, each fill would wait out the consumer's 50 ms park: minutes, not seconds.
        DeliveryRing ring = new DeliveryRing(8);
        int count = 100_000;
        List<Integer> got = new ArrayList<>(count);
        Thread consumer = new Thread(() -> ring.consume((target, item) -> got.add((Integer) item)));
        consumer.start();
        for (int i = 0; i < count; i++) {
            assertThat(ring.offerLazily(ring, i)).isTrue();
        }
        ring.signal();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ring.isIdle() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        ring.close();
        consumer.join(5000);
        assertThat(got).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(got.get(i)).isEqualTo(i);
        }
    }

    @Test
    @Timeout(10)
    void closeReleasesAWaitingProducer() throws Exception {
        DeliveryRing ring = new DeliveryRing(2);
        assertThat(ring.offer("t", 1)).isTrue();
        assertThat(ring.offer("t", 2)).isTrue();
        assertThat(ring.isFull()).isTrue();
        boolean[] result = {true};
        Thread producer = new Thread(() -> result[0] = ring.offer("t", 3));
        producer.start();
        ring.close();
        producer.join(5000);
        assertThat(producer.isAlive()).isFalse();
        assertThat(result[0]).isFalse();
    }
}
