package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;

/** The engine-wide memory budget ({@link QueueLimits#maxMemoryBytes}): what it refuses, counts and gives back. */
class QueueMemoryTest extends QueueTestSupport {
    private static final String PAYLOAD = "x".repeat(100);

    /** What one message published by {@link #publish} to queue counts against the budget. */
    private static long cost(String queue) {
        return PAYLOAD.length() + ("subj." + queue).length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
    }

    /** Room for that many messages, all kept in memory (no paging out: that is tested below). */
    private void openWithRoomFor(int messages, String queue) {
        long bytes = messages * cost(queue);
        limits = limits.withMaxMemoryBytes(bytes).withPageOutBytes(bytes);
        open();
    }

    private static void assertMemoryFull(Receipt r) throws Exception {
        QueueException e = r.awaitFailure();
        assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_MEMORY_FULL);
        assertThat(e).hasMessageContaining("max_queue_memory_bytes");
    }

    @Test
    @Timeout(20)
    void publishesPastTheBudgetAreRefusedOverAllQueuesAndAcksMakeRoom() throws Exception {
        openWithRoomFor(10, "a");
        engine.declare("a", QueueOptions.TRANSIENT);
        engine.declare("b", QueueOptions.DURABLE); // same name length: same cost
        for (int i = 0; i < 6; i++) {
            confirmed("a", PAYLOAD);
        }
        for (int i = 0; i < 4; i++) {
            confirmed("b", PAYLOAD);
        }
        assertThat(engine.memoryBytes()).isEqualTo(10 * cost("a"));

        Receipt refusedA = publish("a", PAYLOAD);
        Receipt refusedB = publish("b", PAYLOAD);
        assertMemoryFull(refusedA);
        assertMemoryFull(refusedB);
        assertThat(refusedB.awaitFailure()).hasMessageContaining("all queues hold " + 10 * cost("a") + " bytes");
        assertThat(engine.memoryBytes()).as("a refusal takes nothing").isEqualTo(10 * cost("a"));
        assertDepth("a", 6, 0);
        assertDepth("b", 4, 0);

        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("b", 1, c);
        assertThat(engine.memoryBytes()).as("an unacked delivery still holds its message").isEqualTo(10 * cost("a"));
        engine.ack("b", c.last().token());
        assertThat(engine.memoryBytes()).isEqualTo(9 * cost("a"));
        confirmed("a", PAYLOAD);
        assertMemoryFull(publish("a", PAYLOAD));
    }

    @Test
    @Timeout(20)
    void purgeDeleteDropHeadAndExpiryGiveMemoryBack() throws Exception {
        openWithRoomFor(10, "a");
        engine.declare("a", QueueOptions.DURABLE.withMaxLength(3, 0, Overflow.DROP_HEAD));
        engine.declare("b", QueueOptions.TRANSIENT.withMessageTtlMillis(1_000));
        engine.declare("c", QueueOptions.DURABLE);
        for (int i = 0; i < 5; i++) {
            confirmed("a", PAYLOAD);
        }
        assertThat(engine.memoryBytes()).as("drop-head keeps 3").isEqualTo(3 * cost("a"));
        publishAll("b", PAYLOAD, PAYLOAD);
        publishAll("c", PAYLOAD, PAYLOAD, PAYLOAD);
        assertThat(engine.memoryBytes()).isEqualTo(8 * cost("a"));

        time.advance(1_000);
        assertDepth("b", 0, 0);
        assertThat(engine.memoryBytes()).as("expired messages").isEqualTo(6 * cost("a"));
        assertThat(engine.purge("c")).isEqualTo(3);
        assertThat(engine.memoryBytes()).as("purged").isEqualTo(3 * cost("a"));
        RecordingConsumer held = new RecordingConsumer();
        engine.subscribe("a", 10, held);
        engine.delete("a");
        assertThat(engine.memoryBytes()).as("a deleted queue, unacked deliveries included").isZero();
    }

    @Test
    @Timeout(20)
    void deadLettersMoveAndRecoveredMessagesCountEvenWhenTheBudgetIsFull() throws Exception {
        openWithRoomFor(3, "q");
        engine.declare("dlq", QueueOptions.DURABLE);
        engine.declare("q", QueueOptions.DURABLE.withDeadLetterQueue("dlq"));
        publishAll("q", PAYLOAD, PAYLOAD, PAYLOAD);
        assertMemoryFull(publish("q", PAYLOAD));

        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.reject("q", c.last().token());
        // The budget was at pageOutBytes when the dead letter arrived, so dlq keeps it on disk only; it keeps its
        // subject, so only that and the overhead count.
        long onDisk = "subj.q".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
        await("the dead letter confirmed by dlq and settled in q", () -> engine.info("dlq").depth() == 1
                && engine.memoryBytes() == 2 * cost("q") + onDisk);
        assertMemoryFull(publish("dlq", PAYLOAD));

        reopen();
        assertThat(engine.memoryBytes()).as("recovery loads all three, and counts them").isEqualTo(3 * cost("q"));
        assertDepth("q", 2, 0);
        assertDepth("dlq", 1, 0);
        assertMemoryFull(publish("q", PAYLOAD));
    }

    /** Rots the last payload byte ('k') of queue's log on disk, where the queue alone holds the message. */
    private void rotLastPayloadByte(String queue) throws Exception {
        Path segment;
        try (Stream<Path> files = Files.list(dir.resolve("queues").resolve(queue).resolve("messages"))) {
            segment = files.filter(p -> p.getFileName().toString().endsWith(".log")).findFirst().orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer all = ByteBuffer.allocate((int) ch.size());
            ch.read(all, 0);
            int last = new String(all.array(), StandardCharsets.ISO_8859_1).lastIndexOf('k');
            ch.write(ByteBuffer.wrap(new byte[] {'K'}), last);
        }
    }

    private static String kib(int i) {
        String head = "message " + i + " ";
        return head + "k".repeat(1000 - head.length());
    }

    @Test
    @Timeout(20)
    void pastPageOutDurableMessagesStayOnDiskOnlyAndComeBackByteForByte() throws Exception {
        long full = 1000 + "subj.q".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
        long onDisk = "subj.q".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
        limits = limits.withMaxMemoryBytes(10 * full); // page out past 5 in memory
        open();
        engine.declare("q", QueueOptions.DURABLE);
        int accepted = 0;
        while (true) {
            Receipt r = publish("q", kib(accepted));
            QueueException refused = r.future.handle((ok, e) -> (QueueException) e).get();
            if (refused != null) {
                assertThat(refused.code()).isEqualTo(ErrorCode.QUEUE_MEMORY_FULL);
                break;
            }
            accepted++;
        }
        long kept = 5;
        long expected = kept + (10 * full - kept * full) / onDisk;
        assertThat(accepted).as("5 kept in memory, the rest of the budget in messages on disk only")
                .isEqualTo(expected);
        assertThat(engine.memoryBytes()).isEqualTo(kept * full + (accepted - kept) * onDisk);

        long held = engine.memoryBytes();
        reopen();
        assertThat(engine.memoryBytes()).as("recovery keeps the same split").isEqualTo(held);

        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1000, c);
        assertThat(c.count()).as("all go out, those on disk read back one by one").isEqualTo(accepted);
        assertThat(engine.memoryBytes()).as("read back for their delivery only: unacked, they count as before")
                .isEqualTo(held);
        for (int i = 0; i < accepted; i++) {
            Delivery d = c.deliveries.get(i);
            assertThat(text(d)).isEqualTo(kib(i));
            if (i % 2 == 1) {
                engine.nack("q", d.token(), 0); // a redelivery reads it back again
            } else {
                engine.ack("q", d.token());
            }
        }
        for (Delivery d : c.deliveries.subList(accepted, c.count())) {
            assertThat(d.deliveryCount()).isEqualTo(2);
            engine.ack("q", d.token());
        }
        assertThat(c.count()).isEqualTo(accepted + accepted / 2);
        assertThat(engine.memoryBytes()).isZero();
    }

    @Test
    @Timeout(20)
    void expiryDeadLettersAndRedriveReadMessagesKeptOnDiskOnly() throws Exception {
        limits = limits.withPageOutBytes(0); // every durable message on disk only
        open();
        engine.declare("dlq", QueueOptions.DURABLE);
        engine.declare("q", QueueOptions.DURABLE.withMessageTtlMillis(1_000).withDeadLetterQueue("dlq"));
        publishAll("q", kib(0), kib(1));
        assertThat(engine.memoryBytes()).isEqualTo(2 * ("subj.q".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES));
        long onDisk = "subj.q".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
        time.advance(1_000);
        // Moving them reads their records for the copies without loading them: only the on-disk cost is held.
        await("both expired into dlq", () -> engine.info("dlq").depth() == 2 && engine.info("q").depth() == 0
                && engine.memoryBytes() == 2 * onDisk);
        assertThat(engine.redrive("dlq", "q")).isEqualTo(2);
        await("both back in q", () -> engine.info("q").depth() == 2 && engine.info("dlq").depth() == 0
                && engine.memoryBytes() == 2 * onDisk);
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        assertThat(c.payloads()).containsExactly(kib(0), kib(1));
    }

    @Test
    @Timeout(20)
    void aMessageThatCannotBeReadBackFailsTheQueueAndIsNeverDeliveredWrong() throws Exception {
        limits = limits.withPageOutBytes(0);
        open();
        engine.declare("q", QueueOptions.DURABLE);
        publishAll("q", kib(0));
        rotLastPayloadByte("q");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        assertThat(c.count()).isZero();
        assertThat(engine.info("q").failure()).contains("could not be read back");
        QueueException refused = publish("q", "x").awaitFailure();
        assertThat(refused.code()).isEqualTo(ErrorCode.STORAGE_FAILED);
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a spinning timer never returns
    void anUnreadableMessageThatExpiresFailsTheQueueWithoutSpinningTheTimerOrRetrying() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        limits = limits.withPageOutBytes(0);
        open();
        engine.declare("dlq", QueueOptions.DURABLE);
        engine.declare("q", QueueOptions.DURABLE.withMessageTtlMillis(1_000).withDeadLetterQueue("dlq"));
        publishAll("q", kib(0));
        rotLastPayloadByte("q");
        time.advance(1_000); // returns: the timer does not spin on the unreadable head
        await("q failed", () -> engine.info("q").failure() != null);
        assertThat(engine.info("q").failure()).contains("could not be read back");
        int reads = files.segmentReads.get();
        time.advance(5 * QueueEngine.TRANSFER_RETRY_MILLIS);
        assertThat(files.segmentReads.get()).as("the unreadable dead letter is not retried").isEqualTo(reads);
        assertThat(engine.info("dlq").depth()).isZero();
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a spinning timer never returns
    void aFailedQueueDoesNotExpireAndItsTimerDoesNotSpin() throws Exception {
        limits = limits.withPageOutBytes(0);
        open();
        engine.declare("q", QueueOptions.DURABLE.withExpiryMillis(1_000));
        publishAll("q", kib(0));
        rotLastPayloadByte("q");
        RecordingConsumer c = new RecordingConsumer();
        long id = engine.subscribe("q", 1, c); // the read-back fails: the queue fails
        engine.unsubscribe("q", id);
        assertThat(engine.info("q").failure()).isNotNull();
        time.advance(10_000); // returns: no timer at a deadline in the past
        assertThat(engine.info("q").depth()).as("still there, for the operator").isEqualTo(1);
    }

    @Test
    @Timeout(20)
    void aReadableDeadLetterIsRetriedWhenItsQueueFailedOverAnotherMessage() throws Exception {
        long dlqCost = PAYLOAD.length() + "subj.dlq".length() + QueueLimits.MESSAGE_OVERHEAD_BYTES;
        limits = limits.withPageOutBytes(dlqCost + cost("q")); // dlq's first and q's first in memory, then on disk
        open();
        engine.declare("dlq", QueueOptions.DURABLE.withMaxLength(1, 0, Overflow.REJECT_PUBLISH));
        engine.declare("q", QueueOptions.DURABLE.withDeadLetterQueue("dlq"));
        confirmed("dlq", PAYLOAD);
        publishAll("q", PAYLOAD, kib(1));
        rotLastPayloadByte("q"); // the second, kept on disk only
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.reject("q", c.last().token()); // dlq is full: refused, retried in a second
        await("q failed reading its next message", () -> engine.info("q").failure() != null);
        engine.purge("dlq");
        time.advance(QueueEngine.TRANSFER_RETRY_MILLIS);
        await("the first, readable, reaches dlq", () -> engine.info("dlq").depth() == 1);
    }

    @Test
    @Timeout(20)
    void settledMessagesBehindAnUnackedOneCountUntilItIsSettled() throws Exception {
        openWithRoomFor(1_000, "q");
        engine.declare("q", QueueOptions.DURABLE);
        for (int i = 0; i < 101; i++) {
            confirmed("q", PAYLOAD);
        }
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1000, c);
        for (Delivery d : c.deliveries.subList(1, 101)) {
            engine.ack("q", d.token());
        }
        long pinned = cost("q") + 100L * QueueLimits.SETTLED_ENTRY_BYTES;
        assertThat(engine.memoryBytes()).as("100 settled entries held behind the first, unacked").isEqualTo(pinned);

        reopen(); // the first comes back (unacked before the restart), the 100 as settled entries behind it
        assertThat(engine.memoryBytes()).isEqualTo(pinned);
        RecordingConsumer again = new RecordingConsumer();
        engine.subscribe("q", 10, again);
        engine.ack("q", again.last().token());
        assertThat(engine.memoryBytes()).isZero();
    }

    @Test
    @Timeout(30)
    void aDamagedRecordInASealedSegmentFailsOnlyItsQueueAtRecoveryAndLosesNothingAfterIt() throws Exception {
        open();
        engine.declare("q", QueueOptions.DURABLE);
        engine.declare("ok", QueueOptions.DURABLE);
        for (int i = 0; i < 200; i++) {
            confirmed("q", kib(i)); // 64 KiB segments: offset 10 ends up in a sealed one
        }
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1000, c);
        for (Delivery d : c.deliveries.subList(150, 200)) {
            engine.ack("q", d.token()); // settled past the damage: must stay settled
        }
        engine.close();
        Path first;
        try (Stream<Path> files = Files.list(dir.resolve("queues").resolve("q").resolve("messages"))) {
            first = files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
        int at;
        try (FileChannel ch = FileChannel.open(first, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer all = ByteBuffer.allocate((int) ch.size());
            ch.read(all, 0);
            at = new String(all.array(), StandardCharsets.ISO_8859_1).indexOf("message 10 ");
            ch.write(ByteBuffer.wrap(new byte[] {'M'}), at);
        }

        open();
        assertThat(engine.info("q").failure()).contains("offset 10").contains("could not be read back");
        confirmed("ok", "the engine and the other queues go on");
        assertThat(publish("q", "x").awaitFailure().code()).isEqualTo(ErrorCode.STORAGE_FAILED);
        RecordingConsumer before = new RecordingConsumer();
        engine.subscribe("q", 1000, before);
        assertThat(before.payloads()).as("what lies before the damage").hasSize(10).first().isEqualTo(kib(0));
        for (Delivery d : List.copyOf(before.deliveries)) {
            engine.ack("q", d.token());
        }
        reopen(); // the low watermark stays at the damage: nothing after it counts as settled
        engine.close();
        try (FileChannel ch = FileChannel.open(first, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'m'}), at); // the operator repairs it
        }
        open();
        assertThat(engine.info("q").failure()).isNull();
        RecordingConsumer after = new RecordingConsumer();
        engine.subscribe("q", 1000, after);
        assertThat(after.count()).as("10..149: acked ones stay acked").isEqualTo(140);
        assertThat(text(after.deliveries.get(0))).isEqualTo(kib(10));
        assertThat(text(after.last())).isEqualTo(kib(149));
        assertThat(after.deliveries.get(0).deliveryCount()).as("its delivery before the damage was found").isEqualTo(2);
    }
}
