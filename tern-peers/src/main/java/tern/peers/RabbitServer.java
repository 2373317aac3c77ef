package tern.peers;

import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * rabbitmq-server from the Debian package as a child process, everything in a temporary directory:
 * node, distribution and epmd ports are free ports on 127.0.0.1, mnesia and logs under workDir, no
 * plugins, no config file (defaults). It runs the package's own start script
 * ({@value #SCRIPT}, which the {@code /usr/sbin/rabbitmq-server} wrapper runs after switching to the
 * rabbitmq user) directly as the current user, with HOME in workDir so the Erlang cookie stays
 * there too. epmd is started as a separate child on its own port so that no daemon outlives the run.
 */
final class RabbitServer implements AutoCloseable {
    static final String SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final ChildProcess process;
    private final ChildProcess epmd;
    private final int port;

    private RabbitServer(ChildProcess process, ChildProcess epmd, int port) {
        this.process = process;
        this.epmd = epmd;
        this.port = port;
    }

    static RabbitServer start(Path workDir) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(workDir.resolve("rabbitmq"));
        int epmdPort = ChildProcess.freePort();
        int nodePort = ChildProcess.freePort();
        int distPort = ChildProcess.freePort();
        ChildProcess epmd = ChildProcess.start("epmd", List.of("epmd", "-address", "127.0.0.1", "-port",
                Integer.toString(epmdPort)), Map.of(), dir, dir.resolve("epmd.log"));
        ChildProcess rabbit = null;
        try {
            epmd.awaitPort(epmdPort, Duration.ofSeconds(10));
            Path plugins = dir.resolve("enabled_plugins");
            Files.writeString(plugins, "[].\n");
            Map<String, String> env = new HashMap<>();
            env.put("HOME", dir.toString());
            env.put("ERL_EPMD_PORT", Integer.toString(epmdPort));
            env.put("ERL_EPMD_ADDRESS", "127.0.0.1");
            env.put("RABBITMQ_NODENAME", "ternpeers" + nodePort + "@localhost");
            env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
            env.put("RABBITMQ_NODE_PORT", Integer.toString(nodePort));
            env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
            env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
            env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
            env.put("RABBITMQ_ENABLED_PLUGINS_FILE", plugins.toString());
            env.put("RABBITMQ_PID_FILE", dir.resolve("rabbitmq.pid").toString());
            env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
            rabbit = ChildProcess.start("rabbitmq", List.of(SCRIPT), env, dir, dir.resolve("rabbitmq-server.log"));
            rabbit.awaitPort(nodePort, START_TIMEOUT);
            RabbitServer server = new RabbitServer(rabbit, epmd, nodePort);
            server.awaitAmqp(START_TIMEOUT);
            return server;
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (rabbit != null) {
                rabbit.close();
            }
            epmd.close();
            throw e;
        }
    }

    /** The port opens before the broker is ready for AMQP sessions; poll a real connection to a deadline. */
    private void awaitAmqp(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                factory().newConnection("tern-peers-probe").close();
                return;
            } catch (IOException | java.util.concurrent.TimeoutException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("rabbitmq-server does not accept AMQP connections on " + port + ": " + e
                            + "; log " + process.logFile() + ":\n" + process.logTail(30), e);
                }
                Thread.sleep(200); // polling to a deadline
            }
        }
    }

    /** amqp-client defaults (guest/guest, blocking IO) pointed at this node. */
    ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(port);
        return f;
    }

    ChildProcess process() {
        return process;
    }

    static String version() {
        return "rabbitmq-server " + Versions.debianPackage("rabbitmq-server") + " (Erlang "
                + Versions.debianPackage("erlang-base") + ")";
    }

    @Override
    public void close() {
        process.close();
        epmd.close();
    }
}
