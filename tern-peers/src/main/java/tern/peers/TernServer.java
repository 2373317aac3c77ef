package tern.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Tern broker as a separate JVM, like the peers are separate processes: {@code java [jvmArgs] -cp
 * <this harness's classpath> tern.broker.BrokerMain --host=127.0.0.1 --port=<free> --data=<tmp>
 * [--key=value ...]} with broker defaults otherwise. Or an external broker given as HOST:PORT, which
 * the harness neither starts nor measures.
 */
final class TernServer implements AutoCloseable {
    static final String MAIN = "tern.broker.BrokerMain";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final ChildProcess process;
    private final String host;
    private final int port;
    private final String launch;

    private TernServer(ChildProcess process, String host, int port, String launch) {
        this.process = process;
        this.host = host;
        this.port = port;
        this.launch = launch;
    }

    static TernServer start(Path workDir, List<String> jvmArgs, List<String> brokerArgs)
            throws IOException, InterruptedException {
        int port = ChildProcess.freePort();
        Path data = Files.createDirectories(workDir.resolve("tern-data"));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-Dlogback.configurationFile=" + Compare.LOGBACK_CONFIG);
        cmd.add("-cp");
        cmd.add(absoluteClassPath());
        cmd.add(MAIN);
        cmd.add("--host=127.0.0.1");
        cmd.add("--port=" + port);
        cmd.add("--data=" + data);
        cmd.addAll(brokerArgs);
        ChildProcess p = ChildProcess.start("tern", cmd, Map.of(), workDir, workDir.resolve("tern.log"));
        try {
            p.awaitPort(port, START_TIMEOUT);
        } catch (IOException | InterruptedException e) {
            p.close();
            throw e;
        }
        String launch = "java " + String.join(" ", jvmArgs) + " " + MAIN + " " + String.join(" ", brokerArgs);
        return new TernServer(p, "127.0.0.1", port, launch.replaceAll("\\s+", " ").trim());
    }

    /** This JVM's class path with every entry absolute: the child runs in the work directory. */
    static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    static TernServer external(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--tern wants HOST:PORT, got " + hostPort);
        }
        return new TernServer(null, hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)),
                "external " + hostPort);
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    /** How the broker was started, for the report. */
    String launch() {
        return launch;
    }

    /** Null for an external broker. */
    ChildProcess process() {
        return process;
    }

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }
}
