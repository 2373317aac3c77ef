package tern.microbench;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tern.protocol.Frame;
import tern.protocol.FrameDecoder;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.MessageLayout;

/**
 * The receive hot path of a PUB: find the frame's end ({@link FrameDecoder#nextFrameBytes}) and
 * locate its fields without allocating ({@link MessageLayout#parse}), beside a plain baseline (read
 * the length word) and the allocating value decoder ({@link Frames#decode}) they avoid.
 * Neither hot-path method should depend on payloadBytes; the value decoder does (it copies).
 */
@State(Scope.Thread)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FrameDecoderBenchmark {
    @Param({"16", "1024", "65536"})
    int payloadBytes;

    final FrameDecoder decoder = new FrameDecoder(Limits.DEFAULT.maxFrameBytes());
    final MessageLayout layout = new MessageLayout();
    ByteBuffer wire;

    @Setup
    public void setUp() {
        wire = Frames.encode(new Frame.Pub(1, false, "bench.orders.eu", "_INBOX.k3.1", Map.of("trace", "ab12"),
                new byte[payloadBytes]));
    }

    /** Baseline: the one read every decoder needs. */
    @Benchmark
    public int lengthWord() {
        return wire.getInt(0);
    }

    @Benchmark
    public int nextFrameBytes() {
        return decoder.nextFrameBytes(wire, 0, wire.limit());
    }

    @Benchmark
    public int messageLayoutParse() {
        return layout.parse(wire, 0, wire.limit(), Limits.DEFAULT.maxSubjectBytes(), Limits.DEFAULT.maxHeaders())
                .payloadOffset();
    }

    /** The allocating decoder (tests, tools, handshake), for comparison. */
    @Benchmark
    public Frame framesDecode() {
        return Frames.decode(wire, Limits.DEFAULT);
    }
}
