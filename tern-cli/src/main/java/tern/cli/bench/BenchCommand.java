package tern.cli.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tern.cli.CommandFailedException;
import tern.cli.ServerAddress;
import tern.cli.VerboseOption;

/**
 * {@code tern bench pubsub|fanout|reqrep|queue}: whole-system throughput and latency through the real
 * client, against an embedded broker (default) or a running one (--server).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure throughput and latency through the real client.",
                "Without --server an embedded broker is started on 127.0.0.1, port 0.",
                "Defaults: pubsub 1,000,000 msgs of 128 B after 2,000,000 warm-up; fanout 500,000 msgs",
                "of 128 B to 4 subscribers after 1,000,000 warm-up; reqrep 100,000 round trips of 64 B",
                "after 20,000 warm-up; queue 200,000 msgs of 1 KiB into a durable queue (fsync before",
                "confirm) after 50,000 warm-up, 1 consumer, 1000 in flight. MB = 10^6 payload bytes."})
public final class BenchCommand implements Callable<Integer> {
    static final long MAX_MSGS = 1_000_000_000L;
    static final int MAX_SIZE_BYTES = 16 << 20;
    static final int MAX_SUBS = 256;
    static final int MAX_RUNS = 100;

    @Spec
    CommandSpec spec;
    @Mixin
    VerboseOption verbose;

    @Parameters(index = "0", paramLabel = "WORKLOAD", description = "pubsub, fanout, reqrep or queue.")
    Workload workload;

    @Option(names = "--msgs", paramLabel = "N", description = "Messages (round trips for reqrep) per run.")
    Long msgs;

    @Option(names = "--size", paramLabel = "BYTES", description = "Payload size in bytes.")
    Integer sizeBytes;

    @Option(names = "--subs", paramLabel = "K", description = "Subscribers (fanout only; default 4).")
    Integer subs;

    @Option(names = "--consumers", paramLabel = "K", description = "Queue consumers (queue only; default 1).")
    Integer consumers;

    @Option(names = "--in-flight", paramLabel = "W",
            description = "Unconfirmed sends at most (queue only; default 1000).")
    Integer inFlight;

    @Option(names = "--warmup", paramLabel = "N",
            description = "Unmeasured messages (round trips) before the runs (default: pubsub 2,000,000 and fanout 1,000,000, "
                    + "each at most twice --msgs; reqrep 20,000).")
    Long warmup;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "1", description = "Measured runs (default: 1).")
    int runs;

    @Option(names = "--server", paramLabel = "HOST:PORT", converter = ServerAddress.Converter.class,
            description = "Benchmark this broker instead of an embedded one.")
    ServerAddress server;

    @Option(names = "--event-loops", paramLabel = "N",
            description = "Event loop threads of the embedded broker (default: the broker's).")
    Integer eventLoops;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "10000",
            description = "Give up after this long without progress (default: ${DEFAULT-VALUE}).")
    long timeoutMillis;

    @Option(names = "--progress", description = "Show a progress bar even when stderr is not a terminal.")
    boolean progress;

    @Override
    public Integer call() throws Exception {
        long n = msgs == null ? workload.defaultMsgs : msgs;
        int size = sizeBytes == null ? workload.defaultSize : sizeBytes;
        long warm = warmup == null ? workload.defaultWarmup(n) : warmup;
        int k = subs == null ? workload.defaultSubs : subs;
        check("--msgs", n, 1, MAX_MSGS);
        check("--size", size, 0, MAX_SIZE_BYTES);
        check("--warmup", warm, 0, MAX_MSGS);
        check("--runs", runs, 1, MAX_RUNS);
        check("--subs", k, 1, MAX_SUBS);
        check("--timeout", timeoutMillis, 1, Duration.ofHours(1).toMillis());
        if (subs != null && workload != Workload.FANOUT) {
            throw new ParameterException(spec.commandLine(), "--subs applies to fanout only");
        }
        if ((consumers != null || inFlight != null) && workload != Workload.QUEUE) {
            throw new ParameterException(spec.commandLine(), "--consumers and --in-flight apply to queue only");
        }
        int queueConsumers = consumers == null ? 1 : consumers;
        int window = inFlight == null ? 1000 : inFlight;
        if (workload == Workload.QUEUE) {
            check("--msgs", n, 1, QueueWorkload.MAX_MSGS);
            check("--size", size, Long.BYTES, MAX_SIZE_BYTES);
            check("--consumers", queueConsumers, 1, QueueWorkload.MAX_CONSUMERS);
            check("--in-flight", window, 1, QueueWorkload.MAX_IN_FLIGHT);
            check("--warmup", warm, 0, QueueWorkload.MAX_MSGS);
        }
        if (eventLoops != null && server != null) {
            throw new ParameterException(spec.commandLine(), "--event-loops applies to the embedded broker only");
        }
        if (eventLoops != null) {
            check("--event-loops", eventLoops, 1, 1024);
        }

        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean show = progress || stderrIsTerminal();
        EmbeddedBroker embedded = null;
        try {
            ServerAddress target = server;
            if (target == null) {
                embedded = EmbeddedBroker.start(eventLoops);
                target = new ServerAddress("127.0.0.1", embedded.port());
                out.println("embedded broker on " + target + " (" + embedded.describe() + ")");
            } else {
                out.println("broker " + target);
            }
            BenchContext context = new BenchContext(target.host(), target.port(),
                    Duration.ofMillis(timeoutMillis), show, err);
            out.println(header(n, size, warm, workload == Workload.QUEUE ? queueConsumers : k, window));
            out.flush();

            String subjectBase = "bench." + workload.id() + "." + Long.toHexString(System.nanoTime());
            long lost = 0;
            if (warm > 0 && workload == Workload.QUEUE) {
                new QueueWorkload(context).run(0, subjectBase.replace('.', '-') + "-warmup", (int) warm, size,
                        queueConsumers, window, show);
            } else if (warm > 0 && workload != Workload.REQREP) {
                new FanoutWorkload(context).run(workload, 0, subjectBase + ".warmup", warm, size, k, show);
            }
            for (int run = 1; run <= runs; run++) {
                String subject = subjectBase + "." + run;
                BenchResult r = switch (workload) {
                    case REQREP -> new ReqRepWorkload(context).run(run, subject, n, run == 1 ? warm : 0, size, show);
                    case QUEUE -> new QueueWorkload(context).run(run, subject.replace('.', '-'), (int) n, size,
                            queueConsumers, window, show);
                    default -> new FanoutWorkload(context).run(workload, run, subject, n, size, k, show);
                };
                out.println("run " + run + "/" + runs + ":");
                out.print(r.describe());
                out.println(r.resultLine());
                out.flush();
                lost += r.lost() + r.wrongSize();
            }
            if (lost > 0) {
                throw new CommandFailedException("verification failed: " + lost + " message"
                        + (lost == 1 ? "" : "s") + " lost or damaged");
            }
            return 0;
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    private String header(long n, int size, long warm, int k, int window) {
        String what = switch (workload) {
            case PUBSUB -> String.format(Locale.ROOT, "%,d msgs of %d B, 1 publisher, 1 subscriber", n, size);
            case FANOUT -> String.format(Locale.ROOT, "%,d msgs of %d B, 1 publisher, %d subscribers", n, size, k);
            case REQREP -> String.format(Locale.ROOT, "%,d sequential round trips of %d B", n, size);
            case QUEUE -> String.format(Locale.ROOT, "%,d msgs of %d B into a durable queue (fsync before confirm),"
                    + " 1 producer with %d in flight, %d consumer%s acking each", n, size, window, k, k == 1 ? "" : "s");
        };
        return workload.id() + ": " + what
                + (warm > 0 ? String.format(Locale.ROOT, " after %,d warm-up", warm) : "")
                + (runs > 1 ? ", " + runs + " runs" : "");
    }

    private void check(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ParameterException(spec.commandLine(), name + " " + value + " outside " + min + ".." + max);
        }
    }

    /**
     * Java cannot ask whether stderr is a terminal; bin/tern can ({@code [ -t 2 ]}) and says so in
     * this property. Without it, a console (stdin and stdout on a terminal) is the best guess.
     */
    private static boolean stderrIsTerminal() {
        String hint = System.getProperty("tern.stderr.tty");
        if (hint != null) {
            return Boolean.parseBoolean(hint);
        }
        return System.console() != null;
    }
}
