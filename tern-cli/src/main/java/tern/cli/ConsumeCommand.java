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
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.ConnectionStatus;
import tern.client.Delivery;
import tern.client.QueueConsumer;
import tern.client.TernException;

/**
 * {@code tern consume QUEUE}: prints each payload on its own line, then acks it (so a crash between the two
 * redelivers rather than loses); with --count exits after N, once the broker has processed the acks.
 */
@Command(name = "consume", mixinStandardHelpOptions = true,
        description = "Consume from a queue: print each payload on its own line and ack it.")
final class ConsumeCommand implements Callable<Integer> {
    /** Printed to stderr once the consumer is registered. */
    static final String READY = "consuming from ";
    /** Largest --prefetch accepted (the broker's maxPrefetch default). */
    static final int MAX_PREFETCH = 65_536;
    private static final Duration POLL = Duration.ofMillis(250);
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(10);

    @Spec
    CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "QUEUE", description = "Queue to consume from.")
    String queue;

    @Option(names = "--count", paramLabel = "N", description = "Exit after N messages (default: run until interrupted).")
    Long count;

    @Option(names = "--prefetch", paramLabel = "K",
            description = "Unacked deliveries at most (default: the client's, capped at --count).")
    Integer prefetch;

    @Option(names = "--no-ack", description = "Consume in no-ack mode: deliveries count as acked when sent.")
    boolean noAck;

    @Override
    public Integer call() {
        if (count != null) {
            Options.requirePositive(spec, "--count", count);
        }
        if (prefetch != null) {
            Options.requireRange(spec, "--prefetch", prefetch, 1, MAX_PREFETCH);
        }
        int k = prefetch != null ? prefetch : ConsumeOptions.defaults().prefetch();
        if (count != null && count < k) {
            // more in flight than we will print would only be redelivered to someone else after we exit
            k = (int) (long) count;
        }
        ConsumeOptions options = new ConsumeOptions(k, noAck);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long received = 0;
        try (Connection c = client.connect("tern-consume", count == null)) {
            QueueConsumer consumer = QueueCommand.attempt("consume " + queue,
                    () -> c.consume(queue, options, null));
            Operations.flush(c, FLUSH_TIMEOUT);
            err.println(READY + queue + " on " + client.server());
            err.flush();
            while (count == null || received < count) {
                Delivery d = next(consumer, received);
                if (d != null) {
                    received++;
                    out.println(new String(d.payload(), StandardCharsets.UTF_8));
                    out.flush();
                    if (!noAck) {
                        d.ack();
                    }
                } else if (c.status() == ConnectionStatus.CLOSED) {
                    throw new CommandFailedException("connection to " + client.server() + " closed after "
                            + received + " message" + (received == 1 ? "" : "s"));
                }
            }
            // acks are not confirmed one by one; a round trip proves the broker processed them before we leave
            Operations.flush(c, FLUSH_TIMEOUT);
            consumer.close();
        }
        return TernCli.EXIT_OK;
    }

    private Delivery next(QueueConsumer consumer, long received) {
        try {
            return consumer.next(POLL);
        } catch (TernException e) {
            throw new CommandFailedException("consumer of " + queue + " ended after " + received + " message"
                    + (received == 1 ? "" : "s") + ": " + Failures.reason(e), e);
        }
    }
}
