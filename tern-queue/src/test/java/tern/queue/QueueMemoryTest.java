package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;

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

    private void openWithRoomFor(int messages, String queue) {
        limits = limits.withMaxMemoryBytes(messages * cost(queue));
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
        // A dead letter keeps its subject, so it costs in dlq what it cost in q.
        await("the dead letter confirmed by dlq and settled in q", () -> engine.info("dlq").depth() == 1
                && engine.memoryBytes() == 3 * cost("q"));
        assertMemoryFull(publish("dlq", PAYLOAD));

        long held = engine.memoryBytes();
        reopen();
        assertThat(engine.memoryBytes()).as("recovery counts what it loads").isEqualTo(held);
        assertDepth("q", 2, 0);
        assertDepth("dlq", 1, 0);
        assertMemoryFull(publish("q", PAYLOAD));
    }
}
