package tern.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.protocol.Frame;
import tern.protocol.Frames;

class WriteBufferTest {
    private static final int CAPACITY = 4096;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static WriteBuffer buffer(List<Object> failures) {
        return new WriteBuffer(CAPACITY, 256, failures::add);
    }

    @Test
    @Timeout(10)
    void coalescesManyPublishesIntoFewWritesThatDecodeBackExactly() {
        List<Object> failures = new ArrayList<>();
        WriteBuffer out = buffer(failures);
        RecordingChannel ch = new RecordingChannel(Integer.MAX_VALUE);
        out.attach(ch, null);
        byte[] subject = utf8("orders.eu");
        int count = 1000;
        for (int i = 0; i < count; i++) {
            byte[] payload = utf8("m" + i);
            out.putPub(0, subject, i % 3 == 0 ? utf8("_INBOX.x." + i) : null,
                    i % 5 == 0 ? Frames.encodeHeaders(Map.of("k", "v" + i)) : null, payload, 0, payload.length);
        }
        out.flushAndDetach(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));

        List<Frame> frames = Frames.decodeAll(ch.bytes());
        assertThat(frames).hasSize(count);
        for (int i = 0; i < count; i++) {
            Frame.Pub p = (Frame.Pub) frames.get(i);
            assertThat(p.subject()).isEqualTo("orders.eu");
            assertThat(p.payload()).isEqualTo(utf8("m" + i));
            assertThat(p.reply()).isEqualTo(i % 3 == 0 ? "_INBOX.x." + i : null);
            assertThat(p.headers()).isEqualTo(i % 5 == 0 ? Map.of("k", "v" + i) : Map.of());
        }
        // Without a writer thread the caller writes only when the buffer is full (or the first, idle publish).
        int fullBuffers = ch.bytes().length / (CAPACITY - 256);
        assertThat(ch.writes()).isBetween(fullBuffers, fullBuffers + 3);
        assertThat(failures).isEmpty();
    }

    @Test
    @Timeout(10)
    void partialSocketWritesStillSendEveryByteInOrder() {
        WriteBuffer out = buffer(new ArrayList<>());
        RecordingChannel ch = new RecordingChannel(7);
        out.attach(ch, null);
        for (int i = 0; i < 300; i++) {
            byte[] payload = utf8("payload-" + i);
            out.putPub(0, utf8("a.b"), null, null, payload, 0, payload.length);
        }
        out.flushAndDetach(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
        List<Frame> frames = Frames.decodeAll(ch.bytes());
        assertThat(frames).hasSize(300);
        assertThat(((Frame.Pub) frames.get(299)).payload()).isEqualTo(utf8("payload-299"));
    }

    @Test
    @Timeout(10)
    void messageLargerThanTheBufferIsWrittenDirectlyAfterWhatWasBuffered() {
        WriteBuffer out = buffer(new ArrayList<>());
        RecordingChannel ch = new RecordingChannel(Integer.MAX_VALUE);
        out.attach(ch, null);
        byte[] small = utf8("before");
        out.putPub(0, utf8("s"), null, null, small, 0, small.length);
        byte[] big = new byte[CAPACITY * 3];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        out.putPub(0, utf8("big"), utf8("r.1"), Frames.encodeHeaders(Map.of("h", "1")), big, 0, big.length);
        byte[] after = utf8("after");
        out.putPub(0, utf8("s"), null, null, after, 0, after.length);
        out.flushAndDetach(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));

        List<Frame> frames = Frames.decodeAll(ch.bytes());
        assertThat(frames).hasSize(3);
        assertThat(((Frame.Pub) frames.get(0)).payload()).isEqualTo(small);
        Frame.Pub p = (Frame.Pub) frames.get(1);
        assertThat(p.payload()).isEqualTo(big);
        assertThat(p.reply()).isEqualTo("r.1");
        assertThat(p.headers()).isEqualTo(Map.of("h", "1"));
        assertThat(((Frame.Pub) frames.get(2)).payload()).isEqualTo(after);
    }

    @Test
    @Timeout(10)
    void whileDetachedPublishesAreBufferedUpToTheBoundThenRefused() {
        WriteBuffer out = buffer(new ArrayList<>());
        byte[] payload = new byte[100];
        int accepted = 0;
        try {
            for (int i = 0; i < 1000; i++) {
                out.putPub(0, utf8("x"), null, null, payload, 0, payload.length);
                accepted++;
            }
        } catch (ConnectionClosedException e) {
            assertThat(e).hasMessageContaining("disconnected");
        }
        int frameBytes = Frames.pubBytes(utf8("x"), null, null, payload.length);
        assertThat(accepted).isEqualTo((CAPACITY - 256) / frameBytes);
        assertThat(out.bufferedBytes()).isEqualTo(accepted * frameBytes);
        byte[] big = new byte[CAPACITY * 2];
        assertThatThrownBy(() -> out.putPub(0, utf8("x"), null, null, big, 0, big.length))
                .isInstanceOf(ConnectionClosedException.class);

        RecordingChannel ch = new RecordingChannel(Integer.MAX_VALUE);
        out.attach(ch, null);
        out.flushAndDetach(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
        assertThat(Frames.decodeAll(ch.bytes())).hasSize(accepted);
    }

    @Test
    @Timeout(10)
    void controlFramesUseTheReserveAndAreDroppedOnDisconnect() {
        WriteBuffer out = buffer(new ArrayList<>());
        byte[] payload = new byte[100];
        try {
            while (true) {
                out.putPub(0, utf8("x"), null, null, payload, 0, payload.length);
            }
        } catch (ConnectionClosedException expected) {
            // full
        }
        int buffered = out.bufferedBytes();
        out.lock.lock();
        try {
            // A PONG still fits (the reserve) even though publishes no longer do.
            assertThat(bufferPong(out)).isTrue();
            out.retainPublishes();
        } finally {
            out.lock.unlock();
        }
        assertThat(out.bufferedBytes()).isEqualTo(buffered);
    }

    private static boolean bufferPong(WriteBuffer out) {
        RecordingChannel ch = new RecordingChannel(0); // accepts nothing: keeps the PONG buffered
        out.attach(ch, null);
        boolean put = out.tryPutControl(new Frame.Pong(7));
        out.detach();
        return put;
    }

    @Test
    @Timeout(20)
    void concurrentPublishersWithTheWriterThreadKeepEachThreadsOrder() throws Exception {
        WriteBuffer out = new WriteBuffer(16 << 10, 1024, ch -> { });
        RecordingChannel ch = new RecordingChannel(Integer.MAX_VALUE);
        out.attach(ch, null);
        Thread writer = new Thread(() -> out.runWriter(TimeUnit.MILLISECONDS.toNanos(5), () -> { }), "writer");
        writer.start();
        int threads = 4;
        int perThread = 20_000;
        List<Thread> publishers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            byte[] subject = utf8("t." + t);
            Thread p = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    byte[] payload = utf8(Integer.toString(i));
                    out.putPub(0, subject, null, null, payload, 0, payload.length);
                    if (i % 5000 == 0) {
                        out.putControl(new Frame.Ping(i + 1));
                    }
                }
            });
            publishers.add(p);
            p.start();
        }
        for (Thread p : publishers) {
            p.join();
        }
        out.flushAndDetach(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        out.close();
        writer.join(5000);
        assertThat(writer.isAlive()).isFalse();

        int[] next = new int[threads];
        int pubs = 0;
        for (Frame f : Frames.decodeAll(ch.bytes())) {
            if (f instanceof Frame.Pub p) {
                int t = Integer.parseInt(p.subject().substring(2));
                assertThat(new String(p.payload(), StandardCharsets.UTF_8)).isEqualTo(Integer.toString(next[t]++));
                pubs++;
            }
        }
        assertThat(pubs).isEqualTo(threads * perThread);
        assertThat(ch.writes()).isLessThan(threads * perThread);
    }
}
