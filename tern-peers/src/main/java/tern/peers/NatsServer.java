package tern.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * nats-server from the Debian package as a child process on 127.0.0.1 and a free port, with
 * defaults; with JetStream ({@code -js -sd <dir>}) for W4.
 */
final class NatsServer implements AutoCloseable {
    static final String BINARY = "nats-server";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final ChildProcess process;
    private final int port;
    private final Path storeDir;

    private NatsServer(ChildProcess process, int port, Path storeDir) {
        this.process = process;
        this.port = port;
        this.storeDir = storeDir;
    }

    static NatsServer start(Path workDir, boolean jetStream) throws IOException, InterruptedException {
        int port = ChildProcess.freePort();
        String name = jetStream ? "nats-js" : "nats";
        List<String> cmd = new ArrayList<>(List.of(BINARY, "-a", "127.0.0.1", "-p", Integer.toString(port)));
        Path store = null;
        if (jetStream) {
            store = Files.createDirectories(workDir.resolve(name + "-store"));
            cmd.addAll(List.of("-js", "-sd", store.toString()));
        }
        ChildProcess p = ChildProcess.start(name, cmd, Map.of(), workDir, workDir.resolve(name + ".log"));
        try {
            p.awaitPort(port, START_TIMEOUT);
        } catch (IOException | InterruptedException e) {
            p.close();
            throw e;
        }
        return new NatsServer(p, port, store);
    }

    String url() {
        return "nats://127.0.0.1:" + port;
    }

    ChildProcess process() {
        return process;
    }

    /** nats-server -version, e.g. "nats-server: v2.9.10". */
    static String version() {
        return Versions.commandOutput(List.of(BINARY, "--version"));
    }

    @Override
    public void close() {
        process.close();
        ChildProcess.deleteTree(storeDir);
    }
}
