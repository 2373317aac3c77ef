package tern.cli;

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

/** {@code tern reply SUBJECT RESPONSE}: answers every request on SUBJECT with RESPONSE. */
@Command(name = "reply", mixinStandardHelpOptions = true,
        description = "Answer every request on a subject with a fixed response.")
final class ReplyCommand implements Callable<Integer> {
    /** Printed to stderr once the broker has registered the subscription. */
    static final String READY = "answering requests on ";
    private static final Duration POLL = Duration.ofMillis(250);

    @Spec
    CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "SUBJECT", description = "Subject or pattern to serve.")
    String subject;

    @Parameters(index = "1", paramLabel = "RESPONSE", description = "Response payload, sent as UTF-8.")
    String response;

    @Option(names = "--queue", paramLabel = "GROUP", description = "Join this queue group.")
    String queue;

    @Option(names = "--count", paramLabel = "N",
            description = "Exit after answering N requests (default: run until interrupted).")
    Integer count;

    @Override
    public Integer call() {
        if (count != null) {
            Options.requirePositive(spec, "--count", count);
        }
        byte[] body = response.getBytes(StandardCharsets.UTF_8);
        try (Connection c = client.connect("tern-reply", count == null)) {
            Subscription sub = queue == null ? c.subscribe(subject) : c.subscribe(subject, queue);
            Operations.flush(c, Duration.ofSeconds(10));
            spec.commandLine().getErr().println(READY + subject + (queue == null ? "" : " in queue " + queue)
                    + " on " + client.server());
            spec.commandLine().getErr().flush();
            long answered = 0;
            while (count == null || answered < count) {
                Message m;
                try {
                    m = sub.next(POLL);
                } catch (TernException e) {
                    throw new CommandFailedException("subscription ended: " + Failures.reason(e), e);
                }
                if (m == null) {
                    if (c.status() == ConnectionStatus.CLOSED) {
                        throw new CommandFailedException("connection to " + client.server() + " closed after "
                                + answered + " request" + (answered == 1 ? "" : "s"));
                    }
                    continue;
                }
                // a message without a reply subject is not a request: nothing to answer
                if (m.replyTo() != null) {
                    c.publish(m.replyTo(), body);
                    answered++;
                }
            }
            Operations.flush(c, Duration.ofSeconds(10));
        }
        return TernCli.EXIT_OK;
    }
}
