package tern.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.ErrorCode;

/** Durable queues on real files: receipts, recovery, retention, disk full, failed fsync. */
class DurableQueueTest extends QueueTestSupport {
    static final QueueOptions D = QueueOptions.DURABLE;

    private long segmentFiles(String queue) throws Exception {
        try (Stream<Path> s = Files.list(dir.resolve("queues").resolve(queue).resolve("messages"))) {
            return s.filter(p -> p.getFileName().toString().endsWith(".log")).count();
        }
    }

    @Test
    @Timeout(20)
    void confirmIsADurabilityReceiptWithOffsetAndFsynced() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        Receipt.Confirmed a = confirmed("q", "a");
        Receipt.Confirmed b = confirmed("q", "b");
        assertThat(a.fsynced()).isTrue();
        assertThat(b.offset()).isEqualTo(a.offset() + 1);
        assertThat(files.messageForces.get()).isPositive();

        engine.declare("fast", D.withFsyncIntervalMillis(50));
        Receipt.Confirmed f = confirmed("fast", "x");
        assertThat(f.fsynced()).isFalse();
        assertThat(f.offset()).isZero();
    }

    @Test
    @Timeout(20)
    void groupCommitCoversManyPublishesWithFewFsyncs() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        int before = files.messageForces.get();
        List<Receipt> receipts = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            receipts.add(publish("q", "m" + i));
        }
        for (Receipt r : receipts) {
            assertThat(r.await().fsynced()).isTrue();
        }
        assertThat(files.messageForces.get() - before).isLessThan(2_000);
    }

    @Test
    @Timeout(20)
    void aBindingThatCannotBeStoredIsNotChanged() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failCatalog = new java.util.concurrent.atomic.AtomicBoolean();
        logConfig = logConfig.withChannelFactory((path, options) -> {
            if (failCatalog.get() && path.getFileName().toString().endsWith(".tmp")) {
                throw new java.io.IOException("catalog write failed (injected)");
            }
            return java.nio.channels.FileChannel.open(path, options);
        });
        open();
        engine.declare("q", D);
        engine.bind("q", "a.*");
        failCatalog.set(true);
        assertThatThrownBy(() -> engine.bind("q", "b.*"))
                .satisfies(t -> assertThat(((QueueException) t).code()).isEqualTo(ErrorCode.STORAGE_FAILED));
        assertThatThrownBy(() -> engine.unbind("q", "a.*"))
                .satisfies(t -> assertThat(((QueueException) t).code()).isEqualTo(ErrorCode.STORAGE_FAILED));
        assertThat(engine.info("q").bindings()).as("both refused changes left the bindings as they were")
                .containsExactly("a.*");
        assertThat(engine.queuesBoundTo("b.x")).isEmpty();
        assertThat(engine.queuesBoundTo("a.x")).containsExactly("q");
        failCatalog.set(false);
        assertThat(engine.unbind("q", "a.*")).isTrue();
        assertThat(engine.bind("q", "c.*")).isTrue();
        reopen();
        assertThat(engine.info("q").bindings()).containsExactly("c.*");
    }

    @Test
    @Timeout(20)
    void recoveryBringsBackUnackedMessagesWithDeliveryCountsButNotAckedOnes() throws Exception {
        open();
        engine.declare("dlq", D);
        engine.declare("q", D.withMaxDeliveries(5).withDeadLetterQueue("dlq"));
        engine.bind("q", "orders.>");
        publishAll("q", "a", "b", "c", "d");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        engine.ack("q", c.deliveries.get(0).token());   // a acked
        engine.nack("q", c.deliveries.get(1).token(), 0); // b redelivered: count 2
        engine.ack("q", c.deliveries.get(2).token());   // c acked; d stays unacked (count 1)
        assertThat(c.payloads()).containsExactly("a", "b", "c", "d", "b");
        long oldToken = c.last().token();

        reopen();
        assertThat(engine.info("q").depth()).isEqualTo(2);
        assertThat(engine.info("q").bindings()).containsExactly("orders.>");
        assertThat(engine.info("q").options()).isEqualTo(D.withMaxDeliveries(5).withDeadLetterQueue("dlq"));
        assertThat(engine.queuesBoundTo("orders.x")).containsExactly("q");
        RecordingConsumer after = new RecordingConsumer();
        engine.subscribe("q", 10, after);
        assertThat(after.payloads()).containsExactly("b", "d");
        assertThat(after.deliveries.get(0).deliveryCount()).isEqualTo(3);
        assertThat(after.deliveries.get(1).deliveryCount()).isEqualTo(2);
        // Tokens of the previous run are fenced, never confused with new ones.
        assertThatThrownBy(() -> engine.ack("q", oldToken))
                .satisfies(t -> assertThat(((QueueException) t).code()).isEqualTo(ErrorCode.STALE_DELIVERY));
        assertThat(after.deliveries).allSatisfy(d -> assertThat(d.token()).isNotEqualTo(oldToken));
        for (Delivery d : after.deliveries) {
            engine.ack("q", d.token());
        }
        reopen();
        assertThat(engine.info("q").depth()).isZero();
        publishAll("q", "e");
        RecordingConsumer third = new RecordingConsumer();
        engine.subscribe("q", 10, third);
        assertThat(third.payloads()).containsExactly("e");
    }

    @Test
    @Timeout(20)
    void transientQueuesDoNotSurviveAndDeletedQueuesStayDeleted() throws Exception {
        open();
        engine.declare("t", QueueOptions.TRANSIENT);
        engine.declare("gone", D);
        publishAll("gone", "x");
        engine.delete("gone");
        assertThat(dir.resolve("queues").resolve("gone")).doesNotExist();
        reopen();
        assertThat(engine.list()).isEmpty();
    }

    @Test
    @Timeout(30)
    void aDeletedQueuesFilesAreFreedInTheBackgroundAndItsNameIsFreeAtOnce() throws Exception {
        open();
        engine.declare("big", D);
        for (int i = 0; i < 200; i++) {
            confirmed("big", "m".repeat(1000) + i); // 64 KiB segments: several of them
        }
        assertThat(segmentFiles("big")).isGreaterThan(2);
        engine.delete("big");
        assertThat(dir.resolve("queues").resolve("big")).doesNotExist();
        engine.declare("big", D);
        confirmed("big", "new");
        await("the deleted queue's files are gone", () -> trash().isEmpty());
        // A crash while freeing them leaves the renamed directory: the next open deletes it.
        Path leftover = dir.resolve("queues").resolve(QueueEngine.TRASH_PREFIX + "big-1");
        Files.createDirectories(leftover.resolve("messages"));
        Files.write(leftover.resolve("messages").resolve("00000000000000000000.log"), new byte[4096]);
        reopen();
        assertThat(leftover).doesNotExist();
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("big", 10, c);
        assertThat(c.payloads()).containsExactly("new");
    }

    private List<Path> trash() {
        try (Stream<Path> s = Files.list(dir.resolve("queues"))) {
            return s.filter(p -> p.getFileName().toString().startsWith(QueueEngine.TRASH_PREFIX)).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Timeout(20)
    void deadLettersSurviveWithTheirOriginAndReason() throws Exception {
        open();
        engine.declare("dlq", D);
        engine.declare("q", D.withDeadLetterQueue("dlq"));
        publishAll("q", "bad");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1, c);
        engine.reject("q", c.last().token());
        await("dead letter confirmed by dlq and settled in q", () -> engine.watermarks("q")[0] == 1);
        reopen();
        assertThat(engine.info("q").depth()).isZero();
        RecordingConsumer dead = new RecordingConsumer();
        engine.subscribe("dlq", 1, dead);
        assertThat(dead.last().deadLetter()).isEqualTo(new DeadLetter("q", DeadLetterReason.REJECTED, 1));
        engine.redrive("dlq", null);
        engine.ack("dlq", dead.last().token());
    }

    @Test
    @Timeout(20)
    void fullyAckedSegmentsAreDeletedWhileTheQueueRuns() throws Exception {
        open();
        engine.declare("q", D);
        byte[] kib = new byte[1024];
        List<Receipt> receipts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Receipt r = new Receipt();
            engine.publish("q", "s", NO_HEADERS, kib, r);
            receipts.add(r);
        }
        for (Receipt r : receipts) {
            r.await();
        }
        long before = segmentFiles("q");
        assertThat(before).isGreaterThanOrEqualTo(4);
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 1000, c);
        for (Delivery d : c.deliveries.subList(0, 250)) {
            engine.ack("q", d.token());
        }
        time.advance(QueueState.HOUSEKEEPING_INTERVAL_MILLIS);
        long[] w = engine.watermarks("q");
        assertThat(w[0]).isEqualTo(250);
        assertThat(segmentFiles("q")).isLessThan(before);
        assertThat(w[1]).isGreaterThan(0).isLessThanOrEqualTo(250);
        // The queue keeps working, and recovery starts at the watermark.
        publishAll("q", "after");
        reopen();
        assertThat(engine.info("q").depth()).isEqualTo(51);
    }

    @Test
    @Timeout(20)
    void diskFullRefusesPublishesKeepsConfirmedDataAndRecovers() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        engine.declare("other", QueueOptions.TRANSIENT);
        publishAll("q", "before");
        files.diskFull = true;
        QueueException e = publish("q", "refused").awaitFailure();
        assertThat(e.code()).isEqualTo(ErrorCode.DISK_FULL);
        assertThat(e.code().retriable()).isTrue();
        assertThat(e).hasMessageContaining("disk full");
        confirmed("other", "still works");
        assertThat(engine.info("q").failure()).isNull();
        files.diskFull = false;
        publishAll("q", "after");
        reopen();
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        assertThat(c.payloads()).containsExactly("before", "after");
    }

    @Test
    @Timeout(20)
    void failedFsyncNeverConfirmsAndStopsTheQueue() throws Exception {
        FaultyFiles files = new FaultyFiles();
        logConfig = logConfig.withChannelFactory(files);
        open();
        engine.declare("q", D);
        engine.declare("other", QueueOptions.TRANSIENT);
        publishAll("q", "safe");
        files.failForce = true;
        QueueException e = publish("q", "unsynced").awaitFailure();
        assertThat(e.code()).isEqualTo(ErrorCode.STORAGE_FAILED);
        QueueException next = publish("q", "later").awaitFailure();
        assertThat(next.code()).isEqualTo(ErrorCode.STORAGE_FAILED);
        assertThat(next).hasMessageContaining("accepts no writes");
        assertThat(engine.info("q").failure()).contains("SYNC_FAILED");
        confirmed("other", "unaffected");
        // Consumers still get what was accepted; a restart recovers from what is on disk.
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        assertThat(c.payloads()).startsWith("safe");
        files.failForce = false;
        reopen();
        assertThat(engine.info("q").failure()).isNull();
        publishAll("q", "healthy again");
    }

    @Test
    @Timeout(20)
    void recoveryDropsSettlementsForOffsetsCutFromTheLogTail() throws Exception {
        open();
        engine.declare("q", D);
        publishAll("q", "a", "b");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        engine.ack("q", c.deliveries.get(1).token());
        reopen();
        assertThat(engine.info("q").depth()).isEqualTo(1);
        reopen();
        assertThat(engine.info("q").depth()).isEqualTo(1);
        // Settlement state is rewritten at each open: only offsets still in the log are named.
        SettlementLog.Recovered r = new SettlementLog.Recovered();
        engine.close();
        try (SettlementLog s = SettlementLog.open(dir.resolve("queues/q"), tern.storage.FileChannelFactory.DEFAULT, r)) {
            assertThat(s.recordsSinceCheckpoint()).isZero();
            assertThat(r.lowWatermark).isZero();
            assertThat(r.settled).containsExactly(1L);
            assertThat(r.deliveryCounts).containsEntry(0L, 1);
        }
        engine = null;
    }

    @Test
    @Timeout(20)
    void afterACrashWrittenAcksHoldAndUnwrittenOnesRedeliver() throws Exception {
        open();
        engine.declare("q", D);
        publishAll("q", "a", "b", "c");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        engine.nack("q", c.deliveries.get(1).token(), 0);
        engine.ack("q", c.deliveries.get(0).token());
        time.advance(QueueState.HOUSEKEEPING_INTERVAL_MILLIS); // written (not fsynced): survives a process crash
        engine.ack("q", c.deliveries.get(2).token());          // still buffered when the process dies
        engine.crashForTest();
        open();
        RecordingConsumer after = new RecordingConsumer();
        engine.subscribe("q", 10, after);
        // a stays acked; b keeps its two deliveries; c comes back (at-least-once) with its recorded count.
        assertThat(after.payloads()).containsExactly("b", "c");
        assertThat(after.deliveries.get(0).deliveryCount()).isEqualTo(3);
        assertThat(after.deliveries.get(1).deliveryCount()).isEqualTo(2);
    }

    @Test
    @Timeout(20)
    void aTornSettlementTailIsIgnored() throws Exception {
        open();
        engine.declare("q", D);
        publishAll("q", "a", "b");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        engine.ack("q", c.deliveries.get(0).token());
        time.advance(QueueState.HOUSEKEEPING_INTERVAL_MILLIS);
        engine.crashForTest();
        Path settlements;
        try (Stream<Path> s = Files.list(dir.resolve("queues/q"))) {
            settlements = s.filter(p -> p.getFileName().toString().startsWith("settlements-")).findFirst().orElseThrow();
        }
        // Half a record, then a record with a bad CRC.
        Files.write(settlements, new byte[] {1, 2, 3, 4, 2, 0, 0, 0, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        open();
        RecordingConsumer after = new RecordingConsumer();
        engine.subscribe("q", 10, after);
        assertThat(after.payloads()).containsExactly("b");
        engine.close();
        Files.write(settlements.resolveSibling("settlements-99.log"), new byte[SettlementLog.RECORD_BYTES]);
        open();
        assertThat(engine.info("q").depth()).isEqualTo(1);
    }

    @Test
    @Timeout(20)
    void aTornCheckpointIsNeverBelieved() throws Exception {
        open();
        engine.declare("q", D);
        publishAll("q", "a", "b", "c");
        RecordingConsumer c = new RecordingConsumer();
        engine.subscribe("q", 10, c);
        engine.ack("q", c.deliveries.get(1).token());
        engine.close();
        engine = null;
        Path settlements;
        try (Stream<Path> s = Files.list(dir.resolve("queues/q"))) {
            settlements = s.filter(p -> p.getFileName().toString().startsWith("settlements-")).findFirst().orElseThrow();
        }
        // The clean close wrote header + 3 entries; lose the last entry, as a crash mid-checkpoint would.
        assertThat(Files.size(settlements)).isEqualTo(4L * SettlementLog.RECORD_BYTES);
        try (var ch = java.nio.channels.FileChannel.open(settlements, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(3L * SettlementLog.RECORD_BYTES);
        }
        open();
        // Without a believable checkpoint nothing is taken as settled: b comes back too (at-least-once).
        assertThat(engine.info("q").depth()).isEqualTo(3);
    }
}
