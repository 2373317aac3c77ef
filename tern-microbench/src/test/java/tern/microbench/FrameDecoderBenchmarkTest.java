package tern.microbench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import tern.protocol.Frame;

/** Calls every @Benchmark once per @Param value so that none rots; asserts results, never speed. */
@Timeout(30)
class FrameDecoderBenchmarkTest {

    @Test
    void everyBenchmarkRunsOncePerPayloadSize() throws Exception {
        String[] sizes = FrameDecoderBenchmark.class.getDeclaredField("payloadBytes").getAnnotation(Param.class).value();
        assertThat(sizes).containsExactly("16", "1024", "65536");
        List<Method> benchmarks = new ArrayList<>();
        for (Method m : FrameDecoderBenchmark.class.getDeclaredMethods()) {
            if (m.isAnnotationPresent(Benchmark.class)) {
                benchmarks.add(m);
            }
        }
        assertThat(benchmarks).extracting(Method::getName)
                .contains("nextFrameBytes", "messageLayoutParse", "lengthWord", "framesDecode");
        for (String size : sizes) {
            FrameDecoderBenchmark bench = new FrameDecoderBenchmark();
            bench.payloadBytes = Integer.parseInt(size);
            bench.setUp();
            for (Method m : benchmarks) {
                assertThat(m.invoke(bench)).as(m.getName() + " at " + size).isNotNull();
            }
            int frameBytes = bench.wire.limit();
            assertThat(bench.lengthWord()).isEqualTo(frameBytes - Frame.PREFIX_BYTES);
            assertThat(bench.nextFrameBytes()).isEqualTo(frameBytes);
            assertThat(bench.messageLayoutParse()).isEqualTo(frameBytes - bench.payloadBytes);
            assertThat(((Frame.Pub) bench.framesDecode()).payload()).hasSize(bench.payloadBytes);
            assertThat(bench.wire.position()).as("benchmarks leave the buffer as they found it").isZero();
        }
    }
}
