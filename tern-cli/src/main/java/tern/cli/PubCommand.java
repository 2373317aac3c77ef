package tern.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tern.client.Connection;

/** {@code tern pub SUBJECT PAYLOAD}: publishes, flushes, prints a summary to stderr. */
@Command(name = "pub", mixinStandardHelpOptions = true, description = "Publish a message.")
final class PubCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "SUBJECT", description = "Subject to publish to.")
    String subject;

    @Parameters(index = "1", paramLabel = "PAYLOAD", description = "Payload, sent as UTF-8.")
    String payload;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Publish the payload N times (default: ${DEFAULT-VALUE}).")
    long count;

    @Option(names = "--header", paramLabel = "K=V", mapFallbackValue = "",
            description = "Add a header; repeatable.")
    Map<String, String> headers = new LinkedHashMap<>();

    @Option(names = "--reply", paramLabel = "SUBJECT", description = "Reply subject carried by the message.")
    String reply;

    @Option(names = "--flush-timeout", paramLabel = "MS", defaultValue = "10000",
            description = "How long to wait for the broker to confirm it processed everything (default: ${DEFAULT-VALUE}).")
    long flushTimeoutMillis;

    @Override
    public Integer call() {
        Options.requirePositive(spec, "--count", count);
        Options.requirePositive(spec, "--flush-timeout", flushTimeoutMillis);
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        boolean plain = reply == null && headers.isEmpty();
        long start = System.nanoTime();
        try (Connection c = client.connect("tern-pub", false)) {
            for (long i = 0; i < count; i++) {
                if (plain) {
                    c.publish(subject, body);
                } else {
                    c.publish(subject, reply, headers, body);
                }
            }
            Operations.flush(c, Duration.ofMillis(flushTimeoutMillis));
        }
        long micros = Math.max(1, (System.nanoTime() - start) / 1_000);
        spec.commandLine().getErr().printf("published %d message%s (%d B each) to %s on %s in %.1f ms%n",
                count, count == 1 ? "" : "s", body.length, subject, client.server(), micros / 1000.0);
        return TernCli.EXIT_OK;
    }
}
