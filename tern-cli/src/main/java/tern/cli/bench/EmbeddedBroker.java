package tern.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;

/** The broker tern bench starts when no --server is given: 127.0.0.1, port 0, a throw-away data dir. */
final class EmbeddedBroker implements AutoCloseable {
    private final TernBroker broker;
    private final Path dataDir;

    private EmbeddedBroker(TernBroker broker, Path dataDir) {
        this.broker = broker;
        this.dataDir = dataDir;
    }

    /** eventLoops null keeps the broker's default. */
    static EmbeddedBroker start(Integer eventLoops) throws IOException {
        Path dir = Files.createTempDirectory("tern-bench-");
        BrokerConfig config = BrokerConfig.defaults().withHost("127.0.0.1").withPort(0).withDataDir(dir);
        if (eventLoops != null) {
            config = config.withEventLoopThreads(eventLoops);
        }
        try {
            return new EmbeddedBroker(TernBroker.start(config), dir);
        } catch (RuntimeException e) {
            delete(dir);
            throw e;
        }
    }

    int port() {
        return broker.port();
    }

    String describe() {
        int loops = broker.config().eventLoopThreads();
        return broker.transport() + ", " + loops + " event loop" + (loops == 1 ? "" : "s");
    }

    @Override
    public void close() throws IOException {
        try {
            broker.close();
        } finally {
            delete(dataDir);
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
