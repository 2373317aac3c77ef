package tern.broker;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Standalone entry point: {@code java tern.broker.BrokerMain [--config FILE] [--key=value ...]} where
 * keys are those of docs/configuration.md (e.g. {@code --port=7420}). Runs until SIGTERM/SIGINT, then
 * shuts down gracefully and exits 0. Exit 2 on a configuration error, 1 when the broker cannot start (the port is
 * taken, the data directory is held by another broker). The CLI's {@code tern broker}
 * does the same through {@link BrokerConfig#load} and {@link TernBroker#runUntilShutdown}.
 */
public final class BrokerMain {
    public static void main(String[] args) {
        Path file = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config") && i + 1 < args.length) {
                file = Path.of(args[++i]);
            } else if (a.startsWith("--config=")) {
                file = Path.of(a.substring("--config=".length()));
            } else if (a.startsWith("--") && a.indexOf('=') > 2) {
                overrides.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else {
                System.err.println("usage: BrokerMain [--config FILE] [--key=value ...]; bad argument: " + a);
                System.exit(2);
                return;
            }
        }
        BrokerConfig config;
        try {
            config = BrokerConfig.load(file, System.getenv(), overrides);
        } catch (IllegalArgumentException e) {
            System.err.println("tern broker: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            TernBroker.runUntilShutdown(config);
        } catch (IllegalStateException e) {
            // cannot start: the address is taken, the data directory is held by another broker, ...
            System.err.println("tern broker: " + e.getMessage());
            System.exit(1);
        }
    }

    private BrokerMain() {
    }
}
