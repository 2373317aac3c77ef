package tern.peers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A broker (or helper such as epmd) running as a child process of the harness. Output goes to a log
 * file; {@link #close()} stops the whole process tree (SIGTERM, then SIGKILL after a grace period).
 * Every started child is also registered with a shutdown hook, so Ctrl-C or a crash of the harness
 * still stops it.
 */
final class ChildProcess implements AutoCloseable {
    private static final List<ChildProcess> LIVE = new CopyOnWriteArrayList<>();
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (ChildProcess c : LIVE) {
                c.close();
            }
        }, "tern-peers-child-reaper"));
    }

    private final String name;
    private final Process process;
    private final Path logFile;

    private ChildProcess(String name, Process process, Path logFile) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
    }

    /** Starts command with extra environment; stdout and stderr both go to logFile. */
    static ChildProcess start(String name, List<String> command, Map<String, String> env, Path workDir, Path logFile)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        ChildProcess c = new ChildProcess(name, p, logFile);
        LIVE.add(c);
        return c;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path logFile() {
        return logFile;
    }

    /** Last lines of the child's output, for error messages. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Polls until 127.0.0.1:port accepts a TCP connection; fails early when the child exits. */
    void awaitPort(int port, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + " before listening on " + port
                        + "; log " + logFile + ":\n" + logTail(30));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(name + " not listening on " + port + " after " + timeout.toSeconds()
                            + " s; log " + logFile + ":\n" + logTail(30));
                }
                Thread.sleep(50); // polling a port to a deadline; no event to wait on
            }
        }
    }

    /**
     * Resident memory of the broker: VmRSS and VmHWM (peak) in KiB summed over this process and its
     * descendants (a script wrapper such as rabbitmq-server's counts too; it is a few MiB at most).
     */
    Memory memory() {
        long rss = 0;
        long hwm = 0;
        long biggestPid = process.pid();
        long biggestRss = -1;
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(process.toHandle());
        process.descendants().forEach(tree::add);
        for (ProcessHandle h : tree) {
            long[] m = Memory.read(h.pid());
            rss += m[0];
            hwm += m[1];
            if (m[0] > biggestRss) {
                biggestRss = m[0];
                biggestPid = h.pid();
            }
        }
        return new Memory(rss, hwm, biggestPid, tree.size());
    }

    /** SIGTERM to the process (scripts forward it), then the rest of the tree; SIGKILL whatever is left. */
    @Override
    public void close() {
        if (!LIVE.remove(this) && !process.isAlive()) {
            return;
        }
        List<ProcessHandle> tree = new ArrayList<>();
        try (Stream<ProcessHandle> d = process.descendants()) {
            d.forEach(tree::add);
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            long deadline = System.nanoTime() + STOP_GRACE.toNanos();
            for (ProcessHandle h : tree) {
                if (h.isAlive()) {
                    h.destroy();
                }
            }
            for (ProcessHandle h : tree) {
                while (h.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50); // polling to a deadline: ProcessHandle.onExit would need an executor per child
                }
                if (h.isAlive()) {
                    h.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
        }
    }

    /** A free TCP port on 127.0.0.1 (closed again at once, so a race with another program is possible). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Deletes a temporary directory tree; best effort. */
    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // left behind in /tmp; harmless
                }
            });
        } catch (IOException ignored) {
            // same
        }
    }

    /** Memory of a broker process tree in KiB. */
    record Memory(long rssKib, long peakKib, long mainPid, int processes) {
        static final Set<String> FIELDS = Set.of("VmRSS:", "VmHWM:");

        static long[] read(long pid) {
            long[] out = new long[2];
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length >= 2 && FIELDS.contains(f[0])) {
                        out[f[0].equals("VmRSS:") ? 0 : 1] = Long.parseLong(f[1]);
                    }
                }
            } catch (IOException | NumberFormatException gone) {
                // process exited between listing and reading: counts as zero
            }
            return out;
        }

        String rssMib() {
            return String.format("%.0f", rssKib / 1024.0);
        }

        String peakMib() {
            return String.format("%.0f", peakKib / 1024.0);
        }
    }
}
