package tern.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tern.client.Connection;
import tern.client.Overflow;
import tern.client.QueueInfo;
import tern.client.QueueOptions;
import tern.client.TernException;

/** {@code tern queue declare|ls|purge|rm|redrive|bind|unbind}: durable queue administration. */
@Command(name = "queue", mixinStandardHelpOptions = true,
        description = "Declare, list, purge, delete, redrive, bind and unbind queues.",
        subcommands = {QueueCommand.Declare.class, QueueCommand.Ls.class, QueueCommand.Purge.class,
                QueueCommand.Rm.class, QueueCommand.Redrive.class, QueueCommand.Bind.class,
                QueueCommand.Unbind.class},
        commandListHeading = "%nCommands:%n")
final class QueueCommand implements Runnable {
    /** Most --bind patterns one declare accepts (the broker's own bound is maxBindingsPerQueue). */
    static final int MAX_BINDINGS = 100;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(),
                "missing queue command (declare, ls, purge, rm, redrive, bind, unbind)");
    }

    /** Runs a client call; a client failure becomes a one-line CommandFailedException. */
    static <T> T attempt(String what, Callable<T> call) {
        try {
            return call.call();
        } catch (TernException e) {
            throw new CommandFailedException(what + " failed: " + Failures.reason(e), e);
        } catch (IllegalArgumentException | CommandFailedException e) {
            throw e;
        } catch (Exception e) {
            throw new CommandFailedException(what + " failed: " + Failures.reason(e), e);
        }
    }

    /** A queue command that connects, makes one request and prints one line. */
    abstract static class Admin implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Mixin
        VerboseOption verbose;

        /** Checks the arguments before connecting; default: nothing to check. */
        void check() {
        }

        /** Makes the request (failures through {@link #attempt}); returns the line to print. */
        abstract String run(Connection c);

        @Override
        public Integer call() {
            check();
            try (Connection c = client.connect("tern-queue", false)) {
                spec.commandLine().getOut().println(run(c));
            }
            return TernCli.EXIT_OK;
        }
    }

    @Command(name = "declare", mixinStandardHelpOptions = true,
            description = {"Declare a queue (idempotent: the same options succeed, different ones fail).",
                    "Durations: 500ms, 30s, 5m, 1h, 2d. Sizes: 512, 10KB, 10MB (10^n), 64KiB, 1GiB (2^n)."})
    static final class Declare extends Admin {
        private QueueOptions options;

        @Parameters(index = "0", paramLabel = "NAME", description = "Queue name: [A-Za-z0-9._-], not starting with '.'.")
        String name;

        @ArgGroup(exclusive = true, multiplicity = "0..1")
        Persistence persistence;

        static final class Persistence {
            @Option(names = "--durable", description = "Survives restarts (default).")
            boolean durable;
            @Option(names = "--transient", description = "Kept in memory only.")
            boolean transient_;
        }

        @Option(names = "--ttl", paramLabel = "DURATION", converter = Quantities.DurationConverter.class,
                description = "Message time to live; older messages are dead-lettered or dropped.")
        Duration ttl;

        @Option(names = "--expires", paramLabel = "DURATION", converter = Quantities.DurationConverter.class,
                description = "Delete the queue after this long unused.")
        Duration expires;

        @Option(names = "--ack-timeout", paramLabel = "DURATION", converter = Quantities.DurationConverter.class,
                description = "Redeliver a delivery not acked within this (default 30s; 0s: never).")
        Duration ackTimeout;

        @Option(names = "--no-ack", description = "Deliveries count as acknowledged when sent.")
        boolean noAck;

        @Option(names = "--max-length", paramLabel = "N", description = "Most ready messages.")
        Long maxLength;

        @Option(names = "--max-bytes", paramLabel = "SIZE", converter = Quantities.BytesConverter.class,
                description = "Most ready bytes (payload + headers).")
        Long maxBytes;

        @Option(names = "--overflow", paramLabel = "POLICY",
                description = "At max length: reject (refuse the publish, default) or drop-head (drop the oldest).")
        String overflow;

        @Option(names = "--max-deliveries", paramLabel = "N",
                description = "Dead-letter a message after N deliveries; needs --dead-letter.")
        Integer maxDeliveries;

        @Option(names = "--dead-letter", paramLabel = "QUEUE",
                description = "Existing queue receiving expired, rejected and over-delivered messages.")
        String deadLetter;

        @Option(names = "--bind", paramLabel = "SUBJECT",
                description = "Also receive messages published to this subject pattern (*, >); repeatable.")
        List<String> bindings = new ArrayList<>();

        @Option(names = "--fsync-interval", paramLabel = "DURATION", converter = Quantities.DurationConverter.class,
                description = "Weaker durability: confirm after the write and fsync every DURATION"
                        + " (default: fsync before confirm).")
        Duration fsyncInterval;

        @Override
        void check() {
            options = options(spec);
        }

        @Override
        String run(Connection c) {
            QueueInfo info = attempt("declare " + name, () -> c.declareQueue(name, options));
            return "declared " + (info.durable() ? "durable" : "transient") + " queue " + info.name() + " (depth "
                    + info.depth() + ", consumers " + info.consumers() + ")";
        }

        QueueOptions options(CommandSpec spec) {
            boolean durable = persistence == null || !persistence.transient_;
            Overflow policy = overflow == null ? null : overflow(spec, overflow);
            if (maxLength != null) {
                Options.requirePositive(spec, "--max-length", maxLength);
            }
            if (maxBytes != null) {
                Options.requirePositive(spec, "--max-bytes", maxBytes);
            }
            if (maxDeliveries != null) {
                Options.requirePositive(spec, "--max-deliveries", maxDeliveries);
                if (deadLetter == null) {
                    throw new ParameterException(spec.commandLine(), "--max-deliveries needs --dead-letter QUEUE");
                }
            }
            if (policy != null && maxLength == null && maxBytes == null) {
                throw new ParameterException(spec.commandLine(), "--overflow needs --max-length or --max-bytes");
            }
            if (fsyncInterval != null) {
                if (!durable) {
                    throw new ParameterException(spec.commandLine(), "--fsync-interval applies to durable queues only");
                }
                positive(spec, "--fsync-interval", fsyncInterval);
            }
            if (ttl != null) {
                positive(spec, "--ttl", ttl);
            }
            if (expires != null) {
                positive(spec, "--expires", expires);
            }
            if (bindings.size() > MAX_BINDINGS) {
                throw new ParameterException(spec.commandLine(), "--bind given " + bindings.size() + " times, at most "
                        + MAX_BINDINGS);
            }
            QueueOptions base = durable ? QueueOptions.durableQueue() : QueueOptions.transientQueue();
            return new QueueOptions(durable,
                    ttl != null ? ttl : base.messageTtl(),
                    expires != null ? expires : base.expires(),
                    ackTimeout != null ? ackTimeout : base.ackTimeout(),
                    noAck || base.noAck(),
                    maxLength != null ? maxLength : base.maxLength(),
                    maxBytes != null ? maxBytes : base.maxBytes(),
                    policy != null ? policy : base.overflow(),
                    maxDeliveries != null ? maxDeliveries : base.maxDeliveries(),
                    deadLetter != null ? deadLetter : base.deadLetterQueue(),
                    bindings.isEmpty() ? base.bindings() : List.copyOf(bindings),
                    fsyncInterval != null ? fsyncInterval : base.fsyncInterval());
        }

        static Overflow overflow(CommandSpec spec, String text) {
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "reject" -> Overflow.REJECT;
                case "drop-head", "drop_head" -> Overflow.DROP_HEAD;
                default -> throw new ParameterException(spec.commandLine(), "--overflow '" + text
                        + "' is not reject or drop-head");
            };
        }

        private static void positive(CommandSpec spec, String name, Duration d) {
            if (d.isZero()) {
                throw new ParameterException(spec.commandLine(), name + " must be positive, was 0");
            }
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List queues and their counters;"
            + " with --rates, also messages per second published, delivered and acked.")
    static final class Ls implements Callable<Integer> {
        /** Longest --rates interval. */
        static final Duration MAX_RATE_INTERVAL = Duration.ofMinutes(10);

        @Spec
        CommandSpec spec;
        @Mixin
        ClientOptions client;
        @Mixin
        VerboseOption verbose;
        @Option(names = "--rates", paramLabel = "INTERVAL", arity = "0..1", fallbackValue = "1s",
                converter = Quantities.DurationConverter.class,
                description = "Sample the counters twice, INTERVAL apart (default 1s), and add PUB/S, DELIVER/S and"
                        + " ACK/S columns.")
        Duration rates;

        @Override
        public Integer call() {
            if (rates != null && (rates.isZero() || rates.compareTo(MAX_RATE_INTERVAL) > 0)) {
                throw new ParameterException(spec.commandLine(), "--rates " + rates.toMillis() + "ms outside 1ms.."
                        + MAX_RATE_INTERVAL.toMinutes() + "m");
            }
            PrintWriter out = spec.commandLine().getOut();
            try (Connection c = client.connect("tern-queue", false)) {
                List<QueueInfo> queues = attempt("list queues", c::listQueues);
                if (rates == null) {
                    out.print(table(queues, null, 0));
                    return TernCli.EXIT_OK;
                }
                long start = System.nanoTime();
                try {
                    Thread.sleep(rates.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CommandFailedException("interrupted while sampling rates", e);
                }
                List<QueueInfo> later = attempt("list queues", c::listQueues);
                out.print(table(later, queues, System.nanoTime() - start));
            }
            return TernCli.EXIT_OK;
        }

        /**
         * Column-aligned: name, durable, depth, unacked, consumers, published, delivered, acked; with earlier (a
         * sample elapsedNanos before), also the rates between the two ("-" for a queue new since, or whose counters
         * went back: a broker restart).
         */
        static String table(List<QueueInfo> queues, List<QueueInfo> earlier, long elapsedNanos) {
            List<String[]> rows = new ArrayList<>();
            List<String> head = new ArrayList<>(List.of("NAME", "DURABLE", "DEPTH", "UNACKED", "CONSUMERS",
                    "PUBLISHED", "DELIVERED", "ACKED"));
            if (earlier != null) {
                head.addAll(List.of("PUB/S", "DELIVER/S", "ACK/S"));
            }
            rows.add(head.toArray(String[]::new));
            Map<String, QueueInfo> before = new HashMap<>();
            if (earlier != null) {
                earlier.forEach(q -> before.put(q.name(), q));
            }
            for (QueueInfo q : queues) {
                List<String> row = new ArrayList<>(List.of(q.name(), q.durable() ? "yes" : "no",
                        Long.toString(q.depth()), Long.toString(q.unacked()), Integer.toString(q.consumers()),
                        Long.toString(q.published()), Long.toString(q.delivered()), Long.toString(q.acked())));
                if (earlier != null) {
                    QueueInfo b = before.get(q.name());
                    row.add(b == null ? "-" : rate(q.published() - b.published(), elapsedNanos));
                    row.add(b == null ? "-" : rate(q.delivered() - b.delivered(), elapsedNanos));
                    row.add(b == null ? "-" : rate(q.acked() - b.acked(), elapsedNanos));
                }
                rows.add(row.toArray(String[]::new));
            }
            int[] width = new int[rows.get(0).length];
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    width[i] = Math.max(width[i], r[i].length());
                }
            }
            StringBuilder s = new StringBuilder();
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    boolean numeric = i >= 2;
                    String cell = numeric ? " ".repeat(width[i] - r[i].length()) + r[i]
                            : r[i] + " ".repeat(width[i] - r[i].length());
                    s.append(cell).append(i + 1 < r.length ? "  " : "");
                }
                s.append(System.lineSeparator());
            }
            return s.toString();
        }

        /** Messages per second, rounded; "-" when the counter went back. */
        static String rate(long delta, long elapsedNanos) {
            return delta < 0 ? "-" : Long.toString(Math.round(delta * 1e9 / Math.max(1, elapsedNanos)));
        }
    }

    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = "Remove every ready message (unacked ones stay); prints how many.")
    static final class Purge extends Admin {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        String run(Connection c) {
            long n = attempt("purge " + name, () -> c.purgeQueue(name));
            return "purged " + n + " message" + (n == 1 ? "" : "s") + " from " + name;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Delete a queue, its messages and its files; its consumers are cancelled.")
    static final class Rm extends Admin {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        String run(Connection c) {
            attempt("delete " + name, () -> {
                c.deleteQueue(name);
                return null;
            });
            return "deleted queue " + name;
        }
    }

    @Command(name = "redrive", mixinStandardHelpOptions = true,
            description = "Move every ready dead letter back to its origin queue, or to --to QUEUE.")
    static final class Redrive extends Admin {
        @Parameters(index = "0", paramLabel = "DLQ", description = "The dead-letter queue.")
        String deadLetterQueue;
        @Option(names = "--to", paramLabel = "QUEUE", description = "Target queue (default: each message's origin).")
        String to;

        @Override
        String run(Connection c) {
            int n = attempt("redrive " + deadLetterQueue, () -> c.redrive(deadLetterQueue, to));
            return "redrove " + n + " message" + (n == 1 ? "" : "s") + " from " + deadLetterQueue
                    + (to == null ? " to their origin queues" : " to " + to);
        }
    }

    /** Bind and unbind: one queue, one subject pattern, one change that may already be in place. */
    abstract static class BindingCommand extends Admin {
        @Parameters(index = "0", paramLabel = "QUEUE")
        String queue;
        @Parameters(index = "1", paramLabel = "SUBJECT", description = "Subject pattern (*: one token, >: the rest);"
                + " unbind matches it exactly as it was bound.")
        String subject;
        private final boolean unbind;

        BindingCommand(boolean unbind) {
            this.unbind = unbind;
        }

        @Override
        String run(Connection c) {
            String what = unbind ? "unbind " + queue + " from " + subject : "bind " + queue + " to " + subject;
            boolean changed = attempt(what, () -> unbind ? c.unbindQueue(queue, subject) : c.bindQueue(queue, subject));
            return changed ? (unbind ? "unbound queue " + queue + " from " : "bound queue " + queue + " to ") + subject
                    : "queue " + queue + (unbind ? " was not bound to " : " was already bound to ") + subject;
        }
    }

    @Command(name = "bind", mixinStandardHelpOptions = true,
            description = {"Bind a subject pattern to an existing queue: every later publish matching it is also sent"
                    + " into the queue.", "Succeeds (and says so) when the queue already has this binding."})
    static final class Bind extends BindingCommand {
        Bind() {
            super(false);
        }
    }

    @Command(name = "unbind", mixinStandardHelpOptions = true,
            description = {"Remove a queue's binding whose pattern is exactly SUBJECT; messages already in the queue"
                    + " stay.", "Succeeds (and says so) when the queue has no such binding."})
    static final class Unbind extends BindingCommand {
        Unbind() {
            super(true);
        }
    }
}
