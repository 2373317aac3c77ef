/*
 * Probe (not part of the build): one thread appends (or overwrites) 1 KiB records to a file every 50 us while the
 * main thread fsyncs it in a loop for 2 s; prints slow fsyncs (ms since start:duration). Modes: append (a growing
 * file), sparse (ftruncated to 256 MiB first), zero (256 MiB written with zeros first).
 *   java bench/probes/AppendFsyncProbe.java /work/probe.dat 1024 50 append|sparse|zero
 * docs/benchmarks.md (W4) records what it showed on the project's VM.
 */
import java.nio.*; import java.nio.channels.*; import java.nio.file.*; import java.util.concurrent.atomic.*;
public class AppendFsyncProbe { public static void main(String[] a) throws Exception {
 Path p = Path.of(a[0]); int bytes = Integer.parseInt(a[1]); long pauseUs = Long.parseLong(a[2]); String mode = a[3];
 Files.deleteIfExists(p);
 try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
  if (mode.equals("zero")) { ByteBuffer z = ByteBuffer.allocateDirect(1 << 20); for (long o = 0; o < (256L << 20); o += 1 << 20) { z.clear(); ch.write(z, o); } ch.force(true); }
  if (mode.equals("sparse")) { ch.write(ByteBuffer.wrap(new byte[1]), (256L << 20) - 1); ch.force(true); }
  AtomicLong pos = new AtomicLong(); AtomicBoolean stop = new AtomicBoolean(); long t0 = System.nanoTime();
  int[] wslow = {0}; double[] wmax = {0};
  Thread w = new Thread(() -> { ByteBuffer b = ByteBuffer.allocateDirect(bytes); try { while (!stop.get()) { b.clear(); long s = System.nanoTime(); ch.write(b, pos.get()); long d = System.nanoTime() - s; pos.addAndGet(bytes); if (d > 3_000_000) wslow[0]++; wmax[0] = Math.max(wmax[0], d / 1e6); java.util.concurrent.locks.LockSupport.parkNanos(pauseUs * 1000); } } catch (Exception e) { e.printStackTrace(); } });
  w.start(); int n = 0, slow = 0; double max = 0; StringBuilder sb = new StringBuilder();
  while (System.nanoTime() - t0 < 2_000_000_000L) { long s = System.nanoTime(); ch.force(false); long d = System.nanoTime() - s; n++; max = Math.max(max, d / 1e6); if (d > 3_000_000 && slow++ < 12) sb.append(String.format("%d:%.1f ", (s - t0) / 1_000_000, d / 1e6)); }
  stop.set(true); w.join();
  System.out.printf("%s: %d fsyncs, %d slow (max %.1f ms) %s | writes slow %d max %.1f ms%n", mode, n, slow, max, sb, wslow[0], wmax[0]);
 }
 Files.deleteIfExists(p);
}}
