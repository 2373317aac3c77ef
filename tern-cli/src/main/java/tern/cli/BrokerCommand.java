package tern.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;

/**
 * {@code tern broker}: runs a broker until SIGTERM or Ctrl-C, then shuts down gracefully and exits 0.
 * Settings come from defaults, then --config FILE, then TERN_* environment variables, then flags.
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = {"Run a broker until SIGTERM or Ctrl-C.",
                "Precedence: defaults < --config FILE < TERN_<KEY> environment variables < flags.",
                "Defaults: 127.0.0.1:7420, data in ./data."})
final class BrokerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    VerboseOption verbose;

    @Option(names = "--port", paramLabel = "P", description = "TCP port; 0 picks a free one (default 7420).")
    Integer port;

    @Option(names = "--host", paramLabel = "H", description = "Interface to bind (default 127.0.0.1).")
    String host;

    @Option(names = "--data", paramLabel = "DIR", description = "Data directory (default ./data).")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file of settings (key = value).")
    Path configFile;

    @Option(names = "--users", paramLabel = "FILE",
            description = "Users file (from `tern user add`): every client must authenticate and is held to its "
                    + "permissions; SIGHUP re-reads it. Without it the broker runs open (and says so).")
    Path usersFile;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain: serve TLS (TLSv1.3/1.2) on the port; plaintext clients are refused "
                    + "with ERROR 304 TLS_REQUIRED unless --set tls_required=false. Needs --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "PEM CA of client certificates: clients must present one it signed (mTLS; "
                    + "--set tls_client_auth=want makes it optional).")
    Path tlsClientCa;

    @Option(names = "--event-loops", paramLabel = "N", description = "I/O event loop threads (default 1).")
    Integer eventLoops;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Any other setting, e.g. --set max_frame_bytes=4194304; repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public Integer call() {
        if (port != null) {
            Options.requireRange(spec, "--port", port, 0, 65_535);
        }
        if (eventLoops != null) {
            Options.requireRange(spec, "--event-loops", eventLoops, 1, BrokerConfig.MAX_EVENT_LOOP_THREADS);
        }
        if (configFile != null && !Files.isReadable(configFile)) {
            throw new ParameterException(spec.commandLine(), "cannot read config file " + configFile);
        }
        Map<String, String> overrides = new LinkedHashMap<>(settings);
        put(overrides, "host", host);
        put(overrides, "port", port);
        put(overrides, "data", dataDir);
        put(overrides, "event_loop_threads", eventLoops);
        put(overrides, "users_file", usersFile);
        put(overrides, "tls_cert", tlsCert);
        put(overrides, "tls_key", tlsKey);
        put(overrides, "tls_client_ca", tlsClientCa);
        BrokerConfig config;
        try {
            config = BrokerConfig.load(configFile, System.getenv(), overrides);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), Failures.oneLine(e.getMessage()), e);
        }
        try {
            TernBroker.runUntilShutdown(config);
        } catch (IllegalStateException e) {
            throw new CommandFailedException(Failures.oneLine(e.getMessage()), e);
        }
        return TernCli.EXIT_OK;
    }

    private static void put(Map<String, String> overrides, String key, Object value) {
        if (value != null) {
            overrides.put(key, value.toString());
        }
    }
}
