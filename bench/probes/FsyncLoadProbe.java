/*
 * Probe (not part of the build): appends 12 x 64 MiB segments in chunks of N KiB, fsyncing after each chunk, and
 * prints the fsync latency percentiles; "pre" zero-fills the files first. Run it alone, then next to two spinning
 * shells (`timeout 6 sh -c 'while :; do :; done' &` twice) to see fsync under CPU load.
 *   java bench/probes/FsyncLoadProbe.java /work/probe-dir append|pre 400
 */
import java.nio.*; import java.nio.channels.*; import java.nio.file.*; import java.util.*;
public class FsyncLoadProbe { public static void main(String[] a) throws Exception {
 Path dir = Path.of(a[0]); Files.createDirectories(dir); boolean pre = a[1].equals("pre"); int chunk = Integer.parseInt(a[2]) << 10;
 long segBytes = 64L << 20; int nseg = 12;
 ByteBuffer b = ByteBuffer.allocateDirect(chunk);
 List<Long> lat = new ArrayList<>(); long t0 = System.nanoTime(); long bytes = 0;
 for (int s = 0; s < nseg; s++) {
  Path p = dir.resolve("seg" + s);
  if (pre) { try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) { ByteBuffer z = ByteBuffer.allocateDirect(1<<20); for (long o = 0; o < segBytes; o += 1<<20) { z.clear(); ch.write(z, o);} ch.force(true);} }
 }
 long tStart = System.nanoTime();
 for (int s = 0; s < nseg; s++) {
  Path p = dir.resolve("seg" + s);
  try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
   for (long pos = 0; pos + chunk <= segBytes; pos += chunk) { b.clear(); ch.write(b, pos); long t = System.nanoTime(); ch.force(false); lat.add(System.nanoTime() - t); bytes += chunk; }
  }
  if (s >= 2) { Files.delete(dir.resolve("seg" + (s - 2))); }
 }
 double secs = (System.nanoTime() - tStart) / 1e9;
 Collections.sort(lat); int n = lat.size();
 System.out.printf("%s chunk %dK: %.0f MB/s, fsync p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms (%d)%n", a[1], chunk>>10, bytes/1e6/secs, lat.get(n/2)/1e6, lat.get(n*99/100)/1e6, lat.get(n*999/1000)/1e6, lat.get(n-1)/1e6, n);
 for (int s = 0; s < nseg; s++) Files.deleteIfExists(dir.resolve("seg" + s));
}}
