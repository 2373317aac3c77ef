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
import tern.client.Message;
import tern.client.NoRespondersException;
import tern.client.RequestTimeoutException;

/** {@code tern req SUBJECT PAYLOAD}: one request, prints the reply's payload. */
@Command(name = "req", mixinStandardHelpOptions = true,
        description = "Send a request and print the reply's payload.")
final class ReqCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "SUBJECT", description = "Subject to send the request to.")
    String subject;

    @Parameters(index = "1", paramLabel = "PAYLOAD", description = "Request payload, sent as UTF-8.")
    String payload;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "2000",
            description = "How long to wait for the reply (default: ${DEFAULT-VALUE}).")
    long timeoutMillis;

    @Override
    public Integer call() {
        Options.requirePositive(spec, "--timeout", timeoutMillis);
        Message reply;
        try (Connection c = client.connect("tern-req", false)) {
            reply = c.request(subject, payload.getBytes(StandardCharsets.UTF_8), Duration.ofMillis(timeoutMillis));
        } catch (NoRespondersException e) {
            throw new CommandFailedException("no responders on " + subject, e);
        } catch (RequestTimeoutException e) {
            throw new CommandFailedException("request on " + subject + " timed out after " + timeoutMillis + " ms", e);
        }
        spec.commandLine().getOut().println(new String(reply.payload(), StandardCharsets.UTF_8));
        spec.commandLine().getOut().flush();
        return TernCli.EXIT_OK;
    }
}
