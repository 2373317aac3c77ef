package tern.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tern.client.Connection;
import tern.client.ConnectionStatus;
import tern.client.Message;
import tern.client.Subscription;
import tern.client.TernException;

/** {@code tern sub SUBJECT}: prints each payload on its own line. */
@Command(name = "sub", mixinStandardHelpOptions = true,
        description = "Subscribe and print each message's payload on its own line.")
final class SubCommand implements Callable<Integer> {
    /** Printed to stderr once the broker has registered the subscription. */
    static final String READY = "subscribed to ";
    private static final Duration POLL = Duration.ofMillis(250);

    @Spec
    CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "SUBJECT", description = "Subject or pattern (*, >).")
    String subject;

    @Option(names = "--queue", paramLabel = "GROUP", description = "Join this queue group.")
    String queue;

    @Option(names = "--count", paramLabel = "N",
            description = "Exit after N messages (default: run until interrupted).")
    Integer count;

    @Override
    public Integer call() {
        if (count != null) {
            Options.requirePositive(spec, "--count", count);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Connection c = client.connect("tern-sub", count == null)) {
            Subscription sub = queue == null ? c.subscribe(subject) : c.subscribe(subject, queue);
            if (count != null) {
                sub.unsubscribe(count);
            }
            Operations.flush(c, Duration.ofSeconds(10));
            err.println(READY + subject + (queue == null ? "" : " in queue " + queue) + " on " + client.server());
            err.flush();
            long received = 0;
            while (count == null || received < count) {
                Message m = next(sub);
                if (m != null) {
                    received++;
                    out.println(new String(m.payload(), StandardCharsets.UTF_8));
                    out.flush();
                } else if (c.status() == ConnectionStatus.CLOSED) {
                    throw new CommandFailedException("connection to " + client.server() + " closed after "
                            + received + " message" + (received == 1 ? "" : "s"));
                }
            }
        }
        return TernCli.EXIT_OK;
    }

    private Message next(Subscription sub) {
        try {
            return sub.next(POLL);
        } catch (TernException e) {
            throw new CommandFailedException("subscription ended: " + Failures.reason(e), e);
        }
    }
}
