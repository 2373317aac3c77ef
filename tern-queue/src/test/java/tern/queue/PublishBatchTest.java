package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;

/** Batches of publishes: per-message refusals, one log write per chunk, one durability outcome per batch. */
class PublishBatchTest extends QueueTestSupport {
    static final QueueOptions D = QueueOptions.DURABLE;

    /** Records its single outcome; a second one fails the test (it throws, and {@link #outcomes} counts it). */
    static final class Recording extends PublishBatch {
        final CompletableFuture<Boolean> fsynced = new CompletableFuture<>();
        final AtomicInteger outcomes = new AtomicInteger();

        Recording() {
            super(2);
        }

        Recording with(String queue, String... payloads) {
            for (String p : payloads) {
                add(queue, NO_HEADERS, bytes(p));
            }
            return this;
        }

        @Override
        protected void durable(boolean f) {
            if (outcomes.incrementAndGet() > 1) {
                throw new AssertionError("a second outcome: durable(" + f + ")");
            }
            fsynced.complete(f);
        }

        @Override
        protected void failed(QueueException error) {
            if (outcomes.incrementAndGet() > 1) {
                throw new AssertionError("a second outcome: failed(" + error + ")", error);
            }
            fsynced.completeExceptionally(error);
        }

        boolean await() throws Exception {
            return fsynced.get(10, TimeUnit.SECONDS);
        }

        List<ErrorCode> refusals() {
            List<ErrorCode> out = new ArrayList<>();
            for (int i = 0; i < size(); i++) {
                out.add(refusal(i) == null ? null : refusal(i).code());
            }
            return out;
        }
    }

    @Test
    @Timeout(20)
    void aDurableBatchTakesConsecutiveOffsetsAndIsConfirmedOnceAfterAnFsync() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        confirmed("q", "single");
        Recording b = new Recording().with("q", "a", "b", "c", "d", "e");
        engine.publish("q", b);
        assertThat(b.await()).isTrue();
        assertThat(b.outcomes.get()).isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            assertThat(b.refusal(i)).isNull();
            assertThat(b.offset(i)).isEqualTo(1 + i);
        }
        assertThatThrownBy(() -> engine.publish("q", b)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.add("q", NO_HEADERS, bytes("late"))).isInstanceOf(IllegalStateException.class);

        reopen();
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 100, c);
        assertThat(c.payloads()).containsExactly("single", "a", "b", "c", "d", "e");
    }

    @Test
    @Timeout(30)
    void aBatchLargerThanOneWriteIsSplitIntoChunksThatFitASegment() throws Exception {
        // 64 KiB segments (QueueTestSupport): 40 messages of 5 KiB need several appends and several segments.
        limits = limits.withMaxMessageBytes(60 << 10);
        open();
        engine.declare("q", D);
        Random rnd = new Random(42);
        List<byte[]> sent = new ArrayList<>();
        Recording b = new Recording();
        for (int i = 0; i < 40; i++) {
            byte[] p = new byte[(5 << 10) + i];
            rnd.nextBytes(p);
            sent.add(p);
            b.add("q", NO_HEADERS, p);
        }
        // One message of 50 KiB: it goes alone, still in one segment.
        byte[] big = new byte[50 << 10];
        rnd.nextBytes(big);
        sent.add(big);
        b.add("q", NO_HEADERS, big);
        engine.publish("q", b);
        assertThat(b.await()).isTrue();
        assertThat(b.refusals()).containsOnlyNulls();
        assertThat(b.offset(40)).isEqualTo(40);

        reopen();
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 100, c);
        assertThat(c.deliveries).hasSize(41);
        for (int i = 0; i < 41; i++) {
            assertThat(c.deliveries.get(i).payload()).isEqualTo(sent.get(i));
            assertThat(c.deliveries.get(i).offset()).isEqualTo(i);
        }
    }

    @Test
    @Timeout(20)
    void overflowRejectRefusesOnlyTheMessagesThatDoNotFit() throws Exception {
        open();
        engine.declare("q", D.withMaxLength(3, 0, Overflow.REJECT_PUBLISH));
        Recording b = new Recording().with("q", "1", "2", "3", "4", "5");
        engine.publish("q", b);
        assertThat(b.await()).isTrue();
        assertThat(b.refusals()).containsExactly(null, null, null, ErrorCode.QUEUE_FULL, ErrorCode.QUEUE_FULL);
        assertThat(b.refusal(3)).hasMessageContaining("is full: 3 messages");
        assertThat(b.offset(3)).isEqualTo(-1);
        assertDepth("q", 3, 0);
    }

    @Test
    @Timeout(20)
    void overflowDropHeadKeepsTheNewestOfTheBatch() throws Exception {
        open();
        engine.declare("q", D.withMaxLength(2, 0, Overflow.DROP_HEAD));
        Recording b = new Recording().with("q", "1", "2", "3", "4", "5");
        engine.publish("q", b);
        assertThat(b.await()).isTrue();
        assertThat(b.refusals()).containsOnlyNulls();
        assertThat(engine.info("q").dropped()).isEqualTo(3);
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        assertThat(c.payloads()).containsExactly("4", "5");
    }

    @Test
    @Timeout(20)
    void tooLargeMessagesAreRefusedAloneAndAnUnknownQueueRefusesAll() throws Exception {
        open();
        engine.declare("q", D);
        Recording b = new Recording().with("q", "ok");
        b.add("q", NO_HEADERS, new byte[(16 << 10) + 1]);
        b.with("q", "also ok");
        engine.publish("q", b);
        assertThat(b.await()).isTrue();
        assertThat(b.refusals()).containsExactly(null, ErrorCode.MESSAGE_TOO_LARGE, null);
        assertThat(b.offset(2)).isEqualTo(1);

        Recording lost = new Recording().with("nope", "x", "y");
        engine.publish("nope", lost);
        assertThat(lost.refusals()).containsExactly(ErrorCode.QUEUE_NOT_FOUND, ErrorCode.QUEUE_NOT_FOUND);
        assertThat(lost.outcomes.get()).isZero();
    }

    @Test
    @Timeout(20)
    void aTransientBatchIsConfirmedBeforePublishReturns() {
        open();
        engine.declare("t", QueueOptions.TRANSIENT);
        Recording b = new Recording().with("t", "a", "b");
        engine.publish("t", b);
        assertThat(b.fsynced).isCompletedWithValue(false);
        assertThat(b.offset(1)).isEqualTo(1);
    }

    @Test
    @Timeout(20)
    void diskFullRefusesTheWholeBatchWithNoOutcomeAndLaterBatchesSucceed() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        files.diskFull = true;
        Recording refused = new Recording().with("q", "a", "b", "c");
        engine.publish("q", refused);
        assertThat(refused.refusals()).containsOnly(ErrorCode.DISK_FULL);
        assertThat(refused.outcomes.get()).isZero();
        assertDepth("q", 0, 0);
        files.diskFull = false;
        Recording after = new Recording().with("q", "d");
        engine.publish("q", after);
        assertThat(after.await()).isTrue();
        assertThat(after.offset(0)).isZero();
    }

    @Test
    @Timeout(20)
    void aFailedFsyncFailsTheBatchOnceAndStopsTheQueue() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        files.failForce = true;
        Recording b = new Recording().with("q", "a", "b");
        engine.publish("q", b);
        assertThat(b.fsynced).failsWithin(10, TimeUnit.SECONDS).withThrowableOfType(Exception.class)
                .havingCause().isInstanceOfSatisfying(QueueException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED));
        assertThat(b.outcomes.get()).isEqualTo(1);
        Recording next = new Recording().with("q", "c");
        engine.publish("q", next);
        assertThat(next.refusals()).containsExactly(ErrorCode.STORAGE_FAILED);
    }
}
