package tern.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tern.client.Confirm;
import tern.client.Connection;
import tern.client.TernException;

/**
 * {@code tern send QUEUE PAYLOAD}: sends with publisher confirms (pipelined, the client bounds how many are
 * outstanding) and exits 0 only when every message was confirmed; prints the confirmed count.
 */
@Command(name = "send", mixinStandardHelpOptions = true,
        description = "Send a message to a queue and wait for the broker's confirm (durable: after fsync).")
final class SendCommand implements Callable<Integer> {
    /** Most messages one invocation sends. */
    static final long MAX_COUNT = 100_000_000L;
    /** Confirms kept at once before waiting for the oldest (the client's own window also bounds this). */
    private static final int BATCH = 1024;

    @Spec
    CommandSpec spec;
    @Mixin
    ClientOptions client;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "QUEUE", description = "Queue to send to.")
    String queue;

    @Parameters(index = "1", paramLabel = "PAYLOAD", description = "Payload, sent as UTF-8.")
    String payload;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1",
            description = "Send the payload N times (default: ${DEFAULT-VALUE}).")
    long count;

    @Option(names = "--header", paramLabel = "K=V", mapFallbackValue = "", description = "Add a header; repeatable.")
    Map<String, String> headers = new LinkedHashMap<>();

    @Option(names = "--confirm-timeout", paramLabel = "DURATION", defaultValue = "30s",
            converter = Quantities.DurationConverter.class,
            description = "Give up when a confirm takes longer than this (default: ${DEFAULT-VALUE}).")
    Duration confirmTimeout;

    @Override
    public Integer call() {
        Options.requireRange(spec, "--count", count, 1, MAX_COUNT);
        if (confirmTimeout.isZero()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--confirm-timeout must be positive");
        }
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        long start = System.nanoTime();
        long confirmed = 0;
        boolean allFsynced = true;
        try (Connection c = client.connect("tern-send", false)) {
            List<CompletableFuture<Confirm>> pending = new ArrayList<>(BATCH);
            for (long i = 0; i < count; i++) {
                pending.add(headers.isEmpty() ? c.send(queue, body) : c.send(queue, headers, body));
                if (pending.size() == BATCH || i + 1 == count) {
                    for (CompletableFuture<Confirm> f : pending) {
                        Confirm confirm = await(f, confirmed);
                        allFsynced &= confirm.fsynced();
                        confirmed++;
                    }
                    pending.clear();
                }
            }
        } catch (TernException e) {
            throw new CommandFailedException("send to " + queue + " failed after " + confirmed + " of " + count
                    + " confirmed: " + Failures.reason(e), e);
        }
        long micros = Math.max(1, (System.nanoTime() - start) / 1_000);
        spec.commandLine().getOut().println(confirmed);
        spec.commandLine().getErr().printf("confirmed %d message%s (%d B each) to %s on %s in %.1f ms%s%n",
                confirmed, confirmed == 1 ? "" : "s", body.length, queue, client.server(), micros / 1000.0,
                allFsynced ? "" : " (not all fsynced: the queue has an fsync interval)");
        return TernCli.EXIT_OK;
    }

    private Confirm await(CompletableFuture<Confirm> f, long confirmed) {
        try {
            return f.get(confirmTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new CommandFailedException("send to " + queue + " failed after " + confirmed + " of " + count
                    + " confirmed: " + Failures.reason(cause), cause);
        } catch (TimeoutException e) {
            throw new CommandFailedException("no confirm within " + confirmTimeout.toMillis() + " ms after "
                    + confirmed + " of " + count + " confirmed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailedException("interrupted after " + confirmed + " of " + count + " confirmed", e);
        }
    }
}
