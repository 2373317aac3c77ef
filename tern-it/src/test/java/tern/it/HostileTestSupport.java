package tern.it;

import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import tern.client.Connection;
import tern.client.Message;
import tern.client.Subscription;
import tern.protocol.Frame;
import tern.protocol.Frames;

/** Shared by the hostile-input ITs: memory and descriptor readings, a request/reply probe, polling. */
final class HostileTestSupport {
    private HostileTestSupport() {
    }

    /** Heap in use after a full GC, plus Netty's pooled direct memory in use (the broker runs in this JVM). */
    static long usedMemoryBytes() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        return heap + PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    static long heapBytes() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static long directBytes() {
        return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    /** Open file descriptors of this process. */
    static int openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        }
    }

    static boolean poll(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }

    /** Starts a responder on subject that echoes each request. */
    static Subscription echo(Connection responder, String subject) {
        Subscription s = responder.subscribe(subject, (Message m) -> responder.publish(m.replyTo(), m.payload()));
        responder.flush();
        return s;
    }

    /** p99 of n request/reply round trips in microseconds; throws if any request fails. */
    static long p99Micros(Connection requester, String subject, int n) {
        long[] micros = new long[n];
        byte[] payload = "ping".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            Message reply = requester.request(subject, payload, Duration.ofSeconds(10));
            micros[i] = (System.nanoTime() - start) / 1_000;
            if (!Arrays.equals(reply.payload(), payload)) {
                throw new AssertionError("bad reply " + Arrays.toString(reply.payload()));
            }
        }
        Arrays.sort(micros);
        return micros[Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1)];
    }

    static long median(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    /** The preface and a HELLO, as a client sends them. */
    static byte[] prefaceAndHello() {
        ByteBuffer hello = Frames.encode(new Frame.Hello(Frame.VERSION, Frame.VERSION, 0, 0, "t", "test", "", new byte[0]));
        byte[] out = new byte[Frame.PREFACE.length + hello.remaining()];
        System.arraycopy(Frame.PREFACE, 0, out, 0, Frame.PREFACE.length);
        hello.get(out, Frame.PREFACE.length, hello.remaining());
        return out;
    }
}
