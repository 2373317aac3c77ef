/*
 * Probe (not part of the build): fsync latency while the CPUs are busy. A 1 GiB file is zero-filled and fsynced
 * first (so appends allocate nothing); then one thread overwrites it 64 KiB every 400 us (~150 MiB/s, W4's byte
 * rate at 150k msgs/s) while the main thread fsyncs it in a loop for 4 s, and N spinner threads run a duty cycle
 * (busy D of every 1 ms, parked the rest). Prints the slow fsyncs (ms since start:duration).
 *   java bench/probes/CpuFsyncProbe.java /work/probe.dat 0 0       (no spinners)
 *   java bench/probes/CpuFsyncProbe.java /work/probe.dat 2 1.0     (both vCPUs busy)
 *   java bench/probes/CpuFsyncProbe.java /work/probe.dat 2 0.5     (both half busy)
 * docs/benchmarks.md (W4, "Where the tail comes from") records what it showed on the project's VM.
 */
import java.nio.*; import java.nio.channels.*; import java.nio.file.*; import java.util.concurrent.atomic.*; import java.util.concurrent.locks.LockSupport;
public class CpuFsyncProbe { public static void main(String[] a) throws Exception {
 Path p = Path.of(a[0]); int spinners = Integer.parseInt(a[1]); double duty = Double.parseDouble(a[2]);
 try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
  ByteBuffer z = ByteBuffer.allocateDirect(1 << 20); for (long o = 0; o < (1024L << 20); o += 1 << 20) { z.clear(); ch.write(z, o); } ch.force(true);
  AtomicBoolean stop = new AtomicBoolean(); long t0 = System.nanoTime();
  Thread w = new Thread(() -> { ByteBuffer b = ByteBuffer.allocateDirect(65536); long pos = 0; try { while (!stop.get()) { b.clear(); ch.write(b, pos); pos += 65536; LockSupport.parkNanos(400_000); } } catch (Exception e) { e.printStackTrace(); } });
  Thread[] spin = new Thread[spinners];
  for (int i = 0; i < spinners; i++) { spin[i] = new Thread(() -> { long x = 0; while (!stop.get()) { long s = System.nanoTime(); while (System.nanoTime() - s < (long) (1_000_000 * duty)) x++; if (duty < 1) LockSupport.parkNanos((long) (1_000_000 * (1 - duty))); } if (x == 42) System.out.print(""); }); spin[i].start(); }
  w.start(); int n = 0, slow = 0; double max = 0; StringBuilder sb = new StringBuilder();
  while (System.nanoTime() - t0 < 4_000_000_000L) { long s = System.nanoTime(); ch.force(false); long d = System.nanoTime() - s; n++; max = Math.max(max, d / 1e6); if (d > 4_000_000 && slow++ < 12) sb.append(String.format("%d:%.1f ", (s - t0) / 1_000_000, d / 1e6)); }
  stop.set(true); w.join(); for (Thread t : spin) t.join();
  System.out.printf("%d spinners at duty %.2f: %d fsyncs, %d over 4 ms (max %.1f ms) %s%n", spinners, duty, n, slow, max, sb);
 }
 Files.deleteIfExists(p);
}}
