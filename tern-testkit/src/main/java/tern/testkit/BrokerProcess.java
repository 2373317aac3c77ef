package tern.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A broker in a child JVM, for tests that must kill it for real ({@link #kill()} is SIGKILL) and
 * restart it on the same data directory. The child runs {@link ChildBroker} on the test's own
 * classpath, binds 127.0.0.1 on the requested port (0 = ephemeral) and prints its port on stdout.
 * Everything the child prints is kept in {@code <dataDir>/../broker-<n>.log} for diagnosis.
 */
public final class BrokerProcess implements AutoCloseable {
    private static final String PORT_LINE = ChildBroker.PORT_LINE;

    private final Process process;
    private final int port;
    private final Path logFile;

    private BrokerProcess(Process process, int port, Path logFile) {
        this.process = process;
        this.port = port;
        this.logFile = logFile;
    }

    /** Starts a child broker on dataDir with extra {@code key=value} config overrides; waits for its port. */
    public static BrokerProcess start(Path dataDir, int port, List<String> overrides) throws IOException {
        return start(dataDir, port, List.of("-Xmx512m"), overrides);
    }

    /** As {@link #start(Path, int, List)}, with the child's JVM options (heap size) instead of -Xmx512m. */
    public static BrokerProcess start(Path dataDir, int port, List<String> jvmOptions, List<String> overrides)
            throws IOException {
        Files.createDirectories(dataDir);
        Path logFile = dataDir.resolveSibling(dataDir.getFileName() + "-broker-" + System.nanoTime() + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-ea"); // the broker's own invariants are checked in its child JVM too, as in surefire
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ChildBroker.class.getName());
        cmd.add(dataDir.toAbsolutePath().toString());
        cmd.add(Integer.toString(port));
        cmd.addAll(overrides);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BlockingQueue<Integer> ports = new ArrayBlockingQueue<>(1);
        Thread pump = new Thread(() -> pump(p, logFile, ports), "broker-process-output");
        pump.setDaemon(true);
        pump.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Integer bound = null;
            while (bound == null && System.nanoTime() < deadline) {
                bound = ports.poll(100, TimeUnit.MILLISECONDS);
                if (bound == null && !p.isAlive()) {
                    // it will never report one: say why now rather than after the whole wait
                    pump.join(2_000);
                    throw new IOException("child broker exited with status " + p.exitValue() + " before reporting"
                            + " its port; see " + logFile + ":\n" + tail(logFile));
                }
            }
            if (bound == null) {
                p.destroyForcibly();
                throw new IOException("child broker did not report its port within 30 s; see " + logFile + ":\n"
                        + tail(logFile));
            }
            return new BrokerProcess(p, bound, logFile);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the child broker", e);
        }
    }

    private static void pump(Process p, Path logFile, BlockingQueue<Integer> ports) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             var log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                log.write(line);
                log.newLine();
                log.flush();
                if (line.startsWith(PORT_LINE)) {
                    ports.offer(Integer.parseInt(line.substring(PORT_LINE.length()).trim()));
                }
            }
        } catch (IOException ignored) {
            // the child died; its exit is observed through the Process
        }
    }

    private static String tail(Path logFile) {
        try {
            List<String> lines = Files.readAllLines(logFile);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public Path logFile() {
        return logFile;
    }

    public String logTail() {
        return tail(logFile);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook, no flush, no goodbye. Waits until the process is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM: the broker's graceful shutdown; returns the exit code. */
    public int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            return -1;
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
