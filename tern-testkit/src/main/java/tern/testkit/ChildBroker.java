package tern.testkit;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import tern.broker.BrokerConfig;
import tern.broker.TernBroker;

/**
 * The main class {@link BrokerProcess} runs in its child JVM: a broker on 127.0.0.1 with the given
 * data directory, port and {@code key=value} overrides (the same keys as the config file), which
 * prints {@link #PORT_LINE} followed by its bound port once it accepts connections.
 */
public final class ChildBroker {
    public static final String PORT_LINE = "TERN_CHILD_PORT=";

    public static void main(String[] args) throws Exception {
        Map<String, String> overrides = new LinkedHashMap<>();
        overrides.put("host", "127.0.0.1");
        overrides.put("data", Path.of(args[0]).toString());
        overrides.put("port", args[1]);
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("override '" + args[i] + "' is not key=value");
            }
            overrides.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        BrokerConfig config = BrokerConfig.load(null, Map.of(), overrides);
        TernBroker broker = TernBroker.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "child-broker-shutdown"));
        System.out.println(PORT_LINE + broker.port());
        System.out.flush();
        broker.awaitClosed();
    }

    private ChildBroker() {
    }
}
