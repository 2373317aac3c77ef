package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;

/** Queue semantics on transient queues (durability is covered by DurableQueueTest). */
class QueueEngineTest extends QueueTestSupport {
    static final QueueOptions Q = QueueOptions.TRANSIENT;

    @BeforeEach
    void start() {
        open();
    }

    private static QueueException code(ErrorCode c, Throwable t) {
        assertThat(t).isInstanceOf(QueueException.class);
        assertThat(((QueueException) t).code()).isEqualTo(c);
        return (QueueException) t;
    }

    @Test
    @Timeout(10)
    void declaringWithSameOptionsSucceedsAndDifferentOptionsNamesTheOption() {
        engine.declare("jobs", Q.withMessageTtlMillis(1000));
        assertThat(engine.declare("jobs", Q.withMessageTtlMillis(1000)).name()).isEqualTo("jobs");
        assertThatThrownBy(() -> engine.declare("jobs", Q.withMessageTtlMillis(2000)))
                .satisfies(t -> assertThat(code(ErrorCode.QUEUE_OPTIONS_MISMATCH, t))
                        .hasMessageContaining("messageTtlMillis (existing 1000, requested 2000)"));
        assertThatThrownBy(() -> engine.declare("jobs", Q.withMessageTtlMillis(1000).withMaxDeliveries(3)))
                .hasMessageContaining("maxDeliveries");
        assertThatThrownBy(() -> engine.declare("jobs", QueueOptions.DURABLE.withMessageTtlMillis(1000)))
                .hasMessageContaining("durable (existing false, requested true)");
    }

    @Test
    @Timeout(10)
    void rejectsBadNamesOptionsAndMissingDeadLetterQueue() {
        assertThatThrownBy(() -> engine.declare("", Q)).satisfies(t -> code(ErrorCode.BAD_QUEUE_OPTIONS, t));
        assertThatThrownBy(() -> engine.declare("a/b", Q)).hasMessageContaining("'/'");
        assertThatThrownBy(() -> engine.declare("x".repeat(201), Q)).hasMessageContaining("201 bytes > max 200");
        assertThatThrownBy(() -> engine.declare("q", Q.withDeadLetterQueue("q")))
                .satisfies(t -> code(ErrorCode.BAD_QUEUE_OPTIONS, t));
        assertThatThrownBy(() -> engine.declare("q", Q.withDeadLetterQueue("dlq")))
                .satisfies(t -> assertThat(code(ErrorCode.QUEUE_NOT_FOUND, t)).hasMessageContaining("'dlq'"));
        assertThatThrownBy(() -> Q.withAckTimeoutMillis(-1)).satisfies(t -> code(ErrorCode.BAD_QUEUE_OPTIONS, t));
        assertThatCode(() -> engine.publish("nope", "s", NO_HEADERS, bytes("x"), new Receipt()))
                .doesNotThrowAnyException();
        Receipt r = new Receipt();
        engine.publish("nope", "s", NO_HEADERS, bytes("x"), r);
        assertThat(r.future).isCompletedExceptionally();
    }

    @Test
    @Timeout(10)
    void queueCountConsumerCountAndMessageSizeAreLimited() throws Exception {
        engine.close();
        limits = limits.withMaxQueues(2).withMaxConsumersPerQueue(1).withMaxMessageBytes(100);
        open();
        engine.declare("a", Q);
        engine.declare("b", Q);
        assertThatThrownBy(() -> engine.declare("c", Q))
                .satisfies(t -> assertThat(code(ErrorCode.QUEUE_LIMIT, t)).hasMessageContaining("2 queues, max 2"));
        engine.subscribe("a", 1, new RecordingConsumer());
        assertThatThrownBy(() -> engine.subscribe("a", 1, new RecordingConsumer()))
                .satisfies(t -> code(ErrorCode.QUEUE_LIMIT, t));
        Receipt big = new Receipt();
        engine.publish("b", "s", NO_HEADERS, new byte[100], big);
        assertThat(code(ErrorCode.MESSAGE_TOO_LARGE, big.awaitFailure())).hasMessageContaining("101 bytes > max 100");
    }

    @Test
    @Timeout(10)
    void transientPublishConfirmsAtOnceAndConsumersCompeteInFifoOrder() throws Exception {
        engine.declare("q", Q);
        Receipt.Confirmed c = confirmed("q", "m0");
        assertThat(c.fsynced()).isFalse();
        publishAll("q", "m1", "m2", "m3");
        RecordingConsumer a = new RecordingConsumer();
        RecordingConsumer b = new RecordingConsumer();
        engine.subscribe("q", 10, a);
        engine.subscribe("q", 10, b);
        publishAll("q", "m4", "m5");
        // Round robin among consumers with credit: the two new messages go one to each.
        assertThat(a.payloads()).startsWith("m0", "m1", "m2", "m3").hasSize(5);
        assertThat(b.payloads()).hasSize(1);
        assertThat(List.of(a.payloads().get(4), b.payloads().get(0))).containsExactlyInAnyOrder("m4", "m5");
        assertThat(a.deliveries).allSatisfy(d -> assertThat(d.deliveryCount()).isEqualTo(1));
        assertDepth("q", 0, 6);
    }

    @Test
    @Timeout(10)
    void prefetchBoundsUnackedDeliveriesPerConsumer() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "a", "b", "c", "d", "e");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 2, c);
        assertThat(c.payloads()).containsExactly("a", "b");
        assertDepth("q", 3, 2);
        engine.ack("q", c.deliveries.get(0).token());
        assertThat(c.payloads()).containsExactly("a", "b", "c");
        engine.ack("q", c.deliveries.get(1).token());
        engine.ack("q", c.deliveries.get(2).token());
        assertThat(c.payloads()).containsExactly("a", "b", "c", "d", "e");
        assertDepth("q", 0, 2);
        QueueInfo i = engine.info("q");
        assertThat(i.acked()).isEqualTo(3);
        assertThat(i.delivered()).isEqualTo(5);
    }

    @Test
    @Timeout(10)
    void ackTimeoutRedeliversWithDeliveryCountAndFencesTheStaleAck() throws Exception {
        engine.declare("q", Q.withAckTimeoutMillis(5_000));
        publishAll("q", "a");
        RecordingConsumer slow = new RecordingConsumer();
        long slowId = engine.subscribe("q", 1, slow);
        Delivery first = slow.last();
        assertThat(first.deliveryCount()).isEqualTo(1);
        time.advance(4_999);
        assertDepth("q", 0, 1);
        time.advance(1);
        // Taken back from the slow consumer and offered again (to it, the only one).
        assertThat(slow.count()).isEqualTo(2);
        Delivery second = slow.last();
        assertThat(second.deliveryCount()).isEqualTo(2);
        assertThat(second.redelivered()).isTrue();
        assertThat(second.token()).isNotEqualTo(first.token());
        assertThatThrownBy(() -> engine.ack("q", first.token()))
                .satisfies(t -> assertThat(code(ErrorCode.STALE_DELIVERY, t)).hasMessageContaining("stale"));
        assertThatThrownBy(() -> engine.ack("q", 1L << 60)).satisfies(t -> code(ErrorCode.UNKNOWN_DELIVERY, t));
        engine.ack("q", second.token());
        assertThatThrownBy(() -> engine.ack("q", second.token())).satisfies(t -> code(ErrorCode.STALE_DELIVERY, t));
        assertDepth("q", 0, 0);
        assertThat(engine.unsubscribe("q", slowId)).isTrue();
    }

    @Test
    @Timeout(10)
    void nackRequeuesAtOnceOrAfterADelay() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "a", "b");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.nack("q", c.last().token(), 0);
        // Redeliveries go before fresh messages.
        assertThat(c.payloads()).containsExactly("a", "a");
        assertThat(c.last().deliveryCount()).isEqualTo(2);
        engine.nack("q", c.last().token(), 3_000);
        assertThat(c.payloads()).containsExactly("a", "a", "b");
        engine.ack("q", c.last().token());
        assertDepth("q", 1, 0);
        time.advance(2_999);
        assertThat(c.count()).isEqualTo(3);
        time.advance(1);
        assertThat(c.payloads()).containsExactly("a", "a", "b", "a");
        assertThat(c.last().deliveryCount()).isEqualTo(3);
        assertThatThrownBy(() -> engine.nack("q", c.last().token(), -1))
                .satisfies(t -> code(ErrorCode.BAD_QUEUE_OPTIONS, t));
    }

    @Test
    @Timeout(10)
    void rejectDeadLettersWithReasonOriginAndCount() throws Exception {
        engine.declare("dlq", Q);
        engine.declare("q", Q.withDeadLetterQueue("dlq"));
        publishAll("q", "bad");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.reject("q", c.last().token());
        time.runDue();
        assertDepth("q", 0, 0);
        RecordingConsumer dead = new RecordingConsumer();
        engine.subscribe("dlq", 1, dead);
        Delivery d = dead.last();
        assertThat(text(d)).isEqualTo("bad");
        assertThat(d.subject()).isEqualTo("subj.q");
        assertThat(d.deadLetter()).isEqualTo(new DeadLetter("q", DeadLetterReason.REJECTED, 1));
        assertThat(engine.info("q").deadLettered()).isEqualTo(1);
    }

    @Test
    @Timeout(10)
    void rejectWithoutDeadLetterQueueDrops() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "bad");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.reject("q", c.last().token());
        assertDepth("q", 0, 0);
        assertThat(c.count()).isEqualTo(1);
    }

    @Test
    @Timeout(10)
    void maxDeliveriesSendsToDeadLetterQueue() throws Exception {
        engine.declare("dlq", Q);
        engine.declare("q", Q.withMaxDeliveries(3).withAckTimeoutMillis(1_000).withDeadLetterQueue("dlq"));
        publishAll("q", "poison");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.nack("q", c.last().token(), 0);
        time.advance(1_000); // second attempt times out
        assertThat(c.count()).isEqualTo(3);
        assertThat(c.last().deliveryCount()).isEqualTo(3);
        engine.nack("q", c.last().token(), 0);
        time.runDue();
        assertThat(c.count()).isEqualTo(3);
        assertDepth("q", 0, 0);
        assertDepth("dlq", 1, 0);
        RecordingConsumer dead = new RecordingConsumer();
        engine.subscribe("dlq", 1, dead);
        assertThat(dead.last().deadLetter()).isEqualTo(new DeadLetter("q", DeadLetterReason.MAX_DELIVERIES, 3));
    }

    @Test
    @Timeout(10)
    void expiredMessagesAreDroppedAndNeverDelivered() throws Exception {
        engine.declare("q", Q.withMessageTtlMillis(1_000));
        publishAll("q", "old");
        time.advance(500);
        publishAll("q", "young");
        time.advance(500);
        assertDepth("q", 1, 0);
        assertThat(engine.info("q").expired()).isEqualTo(1);
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        assertThat(c.payloads()).containsExactly("young");
        // A delivery whose TTL passes while unacked is expired when it comes back, not redelivered.
        engine.nack("q", c.last().token(), 0);
        assertThat(c.count()).isEqualTo(2);
        time.advance(500);
        engine.nack("q", c.last().token(), 0);
        assertThat(c.count()).isEqualTo(2);
        assertDepth("q", 0, 0);
        assertThat(engine.info("q").expired()).isEqualTo(2);
    }

    @Test
    @Timeout(10)
    void expiredMessagesAreDeadLetteredWithReasonExpired() throws Exception {
        engine.declare("dlq", Q);
        engine.declare("q", Q.withMessageTtlMillis(1_000).withDeadLetterQueue("dlq"));
        publishAll("q", "late");
        time.advance(1_000);
        assertDepth("q", 0, 0);
        RecordingConsumer dead = new RecordingConsumer();
        engine.subscribe("dlq", 1, dead);
        assertThat(dead.payloads()).containsExactly("late");
        assertThat(dead.last().deadLetter()).isEqualTo(new DeadLetter("q", DeadLetterReason.EXPIRED, 0));
    }

    @Test
    @Timeout(10)
    void expiryAtDispatchAlsoDeadLetters() throws Exception {
        engine.declare("dlq", Q);
        engine.declare("q", Q.withMessageTtlMillis(1_000).withDeadLetterQueue("dlq"));
        RecordingConsumer c = new RecordingConsumer();
        c.accept = false;
        long id = engine.subscribe("q", 1, c);
        publishAll("q", "x");
        c.accept = true;
        // The sweep and the dispatch race for the same message; either way it is never delivered.
        time.advance(1_000);
        engine.resume("q", id);
        time.runDue();
        assertThat(c.count()).isZero();
        assertDepth("dlq", 1, 0);
    }

    @Test
    @Timeout(10)
    void unusedQueueExpires() throws Exception {
        engine.declare("tmp", Q.withExpiryMillis(10_000));
        time.advance(6_000);
        publishAll("tmp", "keepalive");
        time.advance(6_000);
        assertThat(engine.list()).extracting(QueueInfo::name).contains("tmp");
        RecordingConsumer c = new RecordingConsumer();
        long id = engine.subscribe("tmp", 1, c);
        time.advance(60_000);
        assertThat(engine.list()).extracting(QueueInfo::name).contains("tmp");
        engine.unsubscribe("tmp", id);
        time.advance(9_999);
        assertThat(engine.list()).extracting(QueueInfo::name).contains("tmp");
        time.advance(1);
        assertThat(engine.list()).extracting(QueueInfo::name).doesNotContain("tmp");
        assertThatThrownBy(() -> engine.info("tmp")).satisfies(t -> code(ErrorCode.QUEUE_NOT_FOUND, t));
    }

    @Test
    @Timeout(10)
    void noAckDeliveriesCountAsAcknowledged() throws Exception {
        engine.declare("q", Q.withNoAck(true));
        publishAll("q", "a", "b", "c");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        assertThat(c.payloads()).containsExactly("a", "b", "c");
        assertDepth("q", 0, 0);
        assertThat(engine.info("q").acked()).isEqualTo(3);
        assertThatThrownBy(() -> engine.ack("q", c.last().token())).satisfies(t -> code(ErrorCode.STALE_DELIVERY, t));
    }

    @Test
    @Timeout(10)
    void refusingConsumerIsPausedUntilResumed() throws Exception {
        engine.declare("q", Q);
        RecordingConsumer c = new RecordingConsumer();
        c.accept = false;
        long id = engine.subscribe("q", 5, c);
        publishAll("q", "a", "b");
        assertDepth("q", 2, 0);
        c.accept = true;
        publishAll("q", "c");
        assertThat(c.count()).isZero();
        engine.resume("q", id);
        assertThat(c.payloads()).containsExactly("a", "b", "c");
        assertThat(c.deliveries).allSatisfy(d -> assertThat(d.deliveryCount()).isEqualTo(1));
    }

    @Test
    @Timeout(10)
    void unsubscribingRedeliversUnackedToOthers() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "a", "b");
        RecordingConsumer first = new RecordingConsumer();
        long id = engine.subscribe("q", 5, first);
        RecordingConsumer second = new RecordingConsumer();
        engine.subscribe("q", 5, second);
        assertThat(second.count()).isZero();
        engine.unsubscribe("q", id);
        assertThat(second.payloads()).containsExactly("a", "b");
        assertThat(second.deliveries).allSatisfy(d -> assertThat(d.deliveryCount()).isEqualTo(2));
    }

    @Test
    @Timeout(10)
    void ackFromInsideDeliverIsAllowed() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "a", "b", "c");
        int[] seen = {0};
        engine.subscribe("q", 1, d -> {
            seen[0]++;
            engine.ack("q", d.token());
            return true;
        });
        assertThat(seen[0]).isEqualTo(3);
        assertDepth("q", 0, 0);
    }

    @Test
    @Timeout(10)
    void overflowRejectByLengthAndByBytes() throws Exception {
        engine.declare("n", Q.withMaxLength(2, 0, Overflow.REJECT_PUBLISH));
        publishAll("n", "a", "b");
        QueueException e = publish("n", "c").awaitFailure();
        assertThat(code(ErrorCode.QUEUE_FULL, e)).hasMessageContaining("maxLengthMessages 2");
        engine.declare("b", Q.withMaxLength(0, 10, Overflow.REJECT_PUBLISH));
        publishAll("b", "12345", "12345");
        assertThat(publish("b", "1").awaitFailure().code()).isEqualTo(ErrorCode.QUEUE_FULL);
        // Unacked messages do not count: consuming frees room.
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("b", 1, c);
        confirmed("b", "12345");
    }

    @Test
    @Timeout(10)
    void overflowDropHeadByLengthAndByBytes() throws Exception {
        engine.declare("n", Q.withMaxLength(2, 0, Overflow.DROP_HEAD));
        publishAll("n", "a", "b", "c", "d");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("n", 10, c);
        assertThat(c.payloads()).containsExactly("c", "d");
        assertThat(engine.info("n").dropped()).isEqualTo(2);

        engine.declare("b", Q.withMaxLength(0, 10, Overflow.DROP_HEAD));
        publishAll("b", "1234", "5678", "abcdef");
        RecordingConsumer cb = new RecordingConsumer();
        engine.subscribe("b", 10, cb);
        assertThat(cb.payloads()).containsExactly("5678", "abcdef");
        assertThat(publish("b", "x".repeat(11)).awaitFailure().code()).isEqualTo(ErrorCode.QUEUE_FULL);
    }

    @Test
    @Timeout(10)
    void purgeRemovesReadyButNotUnacked() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "a", "b", "c");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        assertThat(engine.purge("q")).isEqualTo(2);
        assertDepth("q", 0, 1);
        engine.ack("q", c.last().token());
        assertDepth("q", 0, 0);
    }

    @Test
    @Timeout(10)
    void deleteCancelsConsumersAndForgetsTheQueue() throws Exception {
        engine.declare("q", Q);
        publishAll("q", "a");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.delete("q");
        assertThat(c.cancelled.code()).isEqualTo(ErrorCode.QUEUE_NOT_FOUND);
        assertThatThrownBy(() -> engine.ack("q", c.last().token())).satisfies(t -> code(ErrorCode.QUEUE_NOT_FOUND, t));
        assertThat(engine.list()).isEmpty();
        engine.declare("q", Q);
        assertDepth("q", 0, 0);
    }

    @Test
    @Timeout(10)
    void bindingsMatchWildcardsAndAreListed() {
        engine.declare("orders", Q);
        engine.declare("all", Q);
        assertThat(engine.bind("orders", "orders.*.created")).isTrue();
        assertThat(engine.bind("orders", "orders.*.created")).as("already bound: nothing changes").isFalse();
        assertThat(engine.bind("all", ">")).isTrue();
        assertThat(engine.queuesBoundTo("orders.eu.created")).containsExactlyInAnyOrder("orders", "all");
        assertThat(engine.queuesBoundTo("orders.eu.deleted")).containsExactly("all");
        assertThat(engine.queuesBoundTo("orders.eu.created.x")).containsExactly("all");
        assertThat(engine.info("orders").bindings()).containsExactly("orders.*.created");
        assertThatThrownBy(() -> engine.bind("orders", "a.>.b")).satisfies(t -> code(ErrorCode.BAD_SUBJECT, t));
        assertThat(engine.unbind("all", ">")).isTrue();
        assertThat(engine.queuesBoundTo("x")).isEmpty();
    }

    @Test
    @Timeout(10)
    void unbindRemovesExactlyThePatternAndIsIdempotent() {
        engine.declare("orders", Q);
        engine.bind("orders", "orders.*");
        engine.bind("orders", "orders.>");
        engine.bind("orders", "audit");
        assertThat(engine.unbind("orders", "orders.*.x")).as("never bound").isFalse();
        assertThat(engine.unbind("orders", "orders.>")).isTrue();
        assertThat(engine.unbind("orders", "orders.>")).as("already removed").isFalse();
        assertThat(engine.info("orders").bindings()).containsExactly("orders.*", "audit");
        assertThat(engine.queuesBoundTo("orders.eu")).containsExactly("orders");
        assertThat(engine.queuesBoundTo("orders.eu.x")).as("only orders.> matched it").isEmpty();
        assertThatThrownBy(() -> engine.unbind("orders", "a.>.b")).satisfies(t -> code(ErrorCode.BAD_SUBJECT, t));
        assertThatThrownBy(() -> engine.unbind("orders", "")).satisfies(t -> code(ErrorCode.BAD_SUBJECT, t));
        assertThatThrownBy(() -> engine.unbind("nope", "a")).satisfies(t -> code(ErrorCode.QUEUE_NOT_FOUND, t));
        assertThatThrownBy(() -> engine.bind("nope", "a")).satisfies(t -> code(ErrorCode.QUEUE_NOT_FOUND, t));
        assertThat(engine.unbind("orders", "orders.*")).isTrue();
        assertThat(engine.unbind("orders", "audit")).isTrue();
        assertThat(engine.info("orders").bindings()).isEmpty();
        assertThat(engine.bind("orders", "orders.*")).as("bound again after unbinding").isTrue();
    }

    @Test
    @Timeout(10)
    void bindingsPerQueueAreLimited() throws Exception {
        engine.close();
        limits = limits.withMaxBindingsPerQueue(2);
        open();
        engine.declare("q", Q);
        engine.bind("q", "a");
        engine.bind("q", "b");
        assertThat(engine.bind("q", "b")).as("an existing binding is not a new one").isFalse();
        assertThatThrownBy(() -> engine.bind("q", "c"))
                .satisfies(t -> assertThat(code(ErrorCode.QUEUE_LIMIT, t)).hasMessageContaining("2 bindings, max 2"));
        engine.unbind("q", "a");
        assertThat(engine.bind("q", "c")).isTrue();
    }

    @Test
    @Timeout(10)
    void theBindingsListenerHearsOfAnExpiredQueueThatHadBindings() throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        engine.setBindingsListener(() -> {
            assertThat(engine.queuesBoundTo("tap.x")).as("the queue is gone when the listener runs").isEmpty();
            calls.incrementAndGet();
        });
        engine.declare("tap", Q.withExpiryMillis(1_000));
        engine.bind("tap", "tap.*");
        engine.declare("plain", Q.withExpiryMillis(1_000));
        engine.declare("kept", Q);
        engine.bind("kept", "kept.*");
        engine.delete("kept"); // a caller's own delete is not reported: the caller knows
        assertThat(engine.queuesBoundTo("tap.x")).containsExactly("tap");
        time.advance(999);
        assertThat(calls).hasValue(0);
        time.advance(1);
        assertThat(engine.list()).extracting(QueueInfo::name).doesNotContain("tap", "plain");
        assertThat(calls).as("one call: 'tap' had a binding, 'plain' none").hasValue(1);
        assertThat(engine.queuesBoundTo("tap.x")).isEmpty();
    }

    @Test
    @Timeout(10)
    void subjectPatternsMatchLikeTheRouter() {
        assertThat(new SubjectPattern("a.b").matches("a.b")).isTrue();
        assertThat(new SubjectPattern("a.b").matches("a.bc")).isFalse();
        assertThat(new SubjectPattern("a.b").matches("a")).isFalse();
        assertThat(new SubjectPattern("a.*").matches("a.x")).isTrue();
        assertThat(new SubjectPattern("a.*").matches("a.x.y")).isFalse();
        assertThat(new SubjectPattern("a.*").matches("a")).isFalse();
        assertThat(new SubjectPattern("a.>").matches("a")).isFalse();
        assertThat(new SubjectPattern("a.>").matches("a.x.y")).isTrue();
        assertThat(new SubjectPattern("*.b.>").matches("z.b.c")).isTrue();
        assertThat(new SubjectPattern("*.b.>").matches("z.c.c")).isFalse();
    }

    @Test
    @Timeout(10)
    void redriveSendsDeadLettersBackToTheirOriginOrToATarget() throws Exception {
        engine.declare("dlq", Q);
        engine.declare("q1", Q.withDeadLetterQueue("dlq"));
        engine.declare("q2", Q.withDeadLetterQueue("dlq"));
        engine.declare("retry", Q);
        publishAll("q1", "one");
        publishAll("q2", "two");
        for (String q : List.of("q1", "q2")) {
            RecordingConsumer c = new RecordingConsumer();
            long id = engine.subscribe(q, 1, c);
            engine.reject(q, c.last().token());
            engine.unsubscribe(q, id);
        }
        time.runDue();
        assertDepth("dlq", 2, 0);
        assertThat(engine.redrive("dlq", null)).isEqualTo(2);
        time.runDue();
        assertDepth("dlq", 0, 0);
        RecordingConsumer c1 = new RecordingConsumer();
        engine.subscribe("q1", 1, c1);
        assertThat(c1.payloads()).containsExactly("one");
        assertThat(c1.last().deadLetter()).isNull();
        assertThat(c1.last().deliveryCount()).isEqualTo(1);
        engine.reject("q1", c1.last().token());
        time.runDue();
        assertDepth("q2", 1, 0);
        assertDepth("dlq", 1, 0);
        assertThat(engine.redrive("dlq", "retry")).isEqualTo(1);
        time.runDue();
        assertDepth("dlq", 0, 0);
        assertDepth("retry", 1, 0);
        assertThatThrownBy(() -> engine.redrive("dlq", "missing")).satisfies(t -> code(ErrorCode.QUEUE_NOT_FOUND, t));
    }

    @Test
    @Timeout(10)
    void redriveToAFullQueueLeavesTheMessageInTheDeadLetterQueue() throws Exception {
        engine.declare("dlq", Q);
        engine.declare("q", Q.withDeadLetterQueue("dlq"));
        engine.declare("full", Q.withMaxLength(1, 0, Overflow.REJECT_PUBLISH));
        publishAll("full", "occupant");
        publishAll("q", "x");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.reject("q", c.last().token());
        time.runDue();
        assertThat(engine.redrive("dlq", "full")).isZero();
        time.runDue();
        assertDepth("dlq", 1, 0);
    }

    @Test
    @Timeout(10)
    void listShowsDepthUnackedConsumersAndTotals() throws Exception {
        engine.declare("b", Q);
        engine.declare("a", Q);
        publishAll("a", "1", "2", "3");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("a", 1, c);
        List<QueueInfo> infos = engine.list();
        assertThat(infos).extracting(QueueInfo::name).containsExactly("a", "b");
        QueueInfo a = infos.get(0);
        assertThat(a.depth()).isEqualTo(2);
        assertThat(a.depthBytes()).isEqualTo(2);
        assertThat(a.unacked()).isEqualTo(1);
        assertThat(a.consumers()).isEqualTo(1);
        assertThat(a.published()).isEqualTo(3);
        assertThat(a.delivered()).isEqualTo(1);
        assertThat(a.atMillis()).isEqualTo(time.nowMillis());
    }
}
