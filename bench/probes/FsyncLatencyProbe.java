/*
 * Probe (not part of the build): 2000 x (write N KiB at the end of a file, fsync it); prints fsync p50/p99.
 *   java bench/probes/FsyncLatencyProbe.java /work/probe.dat 1      (1 KiB per fsync)
 *   java bench/probes/FsyncLatencyProbe.java /work/probe.dat 100    (100 KiB per fsync)
 */
import java.nio.*; import java.nio.channels.*; import java.nio.file.*;
public class FsyncLatencyProbe { public static void main(String[] a) throws Exception {
 Path p = Path.of(a[0]); int batch = Integer.parseInt(a[1]);
 try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
  ByteBuffer b = ByteBuffer.allocateDirect(1024*batch); long pos=0; int n=2000; long[] t=new long[n];
  for (int i=0;i<n;i++){ b.clear(); long s=System.nanoTime(); while(b.hasRemaining()) pos+=ch.write(b,pos); ch.force(false); t[i]=System.nanoTime()-s;}
  java.util.Arrays.sort(t); System.out.printf("batch %d: p50 %.3f ms p99 %.3f ms -> %.0f KiB-appends/s%n", batch, t[n/2]/1e6, t[n*99/100]/1e6, batch*1e9/(java.util.Arrays.stream(t).average().getAsDouble()));
 }}}
