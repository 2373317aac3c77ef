/*
 * Probe (not part of the build): fsyncs a growing file in a loop while another thread deletes a 64 MiB file, at once
 * (unlink) or 4 MiB at a time (chunks); prints the fsync stalls. docs/storage.md ("Retention") records the result.
 *   java bench/probes/UnlinkProbe.java /work/probe-dir unlink|chunks
 */
import java.nio.*; import java.nio.channels.*; import java.nio.file.*;
public class UnlinkProbe { public static void main(String[] a) throws Exception {
 Path dir = Path.of(a[0]); Files.createDirectories(dir); String mode = a[1];
 Path big = dir.resolve("big.log");
 ByteBuffer mb = ByteBuffer.allocateDirect(1<<20);
 try (FileChannel ch = FileChannel.open(big, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) { for (int i=0;i<64;i++){ mb.clear(); ch.write(mb, (long)i<<20);} ch.force(false);}
 Thread del = new Thread(() -> { try { Thread.sleep(200);
   if (mode.equals("unlink")) { Files.delete(big); }
   else { try (FileChannel ch = FileChannel.open(big, StandardOpenOption.WRITE)) { for (long s = 64L<<20; s > 0; s -= 4L<<20) { ch.truncate(s - (4L<<20)); ch.force(true); Thread.sleep(5);} } Files.delete(big); }
   try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) { d.force(true); } } catch (Exception e) { e.printStackTrace(); } });
 del.start();
 try (FileChannel ch = FileChannel.open(dir.resolve("w.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
  ByteBuffer b = ByteBuffer.allocateDirect(64<<10); long pos=0; long max=0; long t0=System.nanoTime();
  while (System.nanoTime()-t0 < 600_000_000L) { b.clear(); pos+=ch.write(b,pos); long s=System.nanoTime(); ch.force(false); long d=System.nanoTime()-s; if (d>max) max=d; if (d > 3_000_000) System.out.printf("stall %.1f ms at %d ms%n", d/1e6, (s-t0)/1_000_000); }
  System.out.printf("%s: max force %.1f ms%n", mode, max/1e6);
 }
 del.join(); Files.deleteIfExists(dir.resolve("w.log")); Files.deleteIfExists(big);
}}
