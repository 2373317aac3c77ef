package tern.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs workloads W1..W4 of shared/PEERS.md against several brokers in one invocation: every broker a
 * child process on 127.0.0.1, one client JVM (this one) for all connections, a warm-up run per target,
 * then N measured runs with targets alternating (the starting target rotates each round), medians
 * reported. Prints markdown tables and one {@code RESULT ...} line per figure. Exit status 0 when
 * every run succeeded, 1 when some failed (reported in the tables), 2 on bad arguments.
 *
 * <pre>
 * bench/compare.sh --workloads W1,W2,W3 --targets tern,nats --runs 3
 * bench/compare.sh --workloads W4 --targets nats,rabbitmq --msgs 100000
 * </pre>
 */
public final class Compare {
    /** Logback configuration (a class-path resource) for this JVM and the child Tern broker. */
    static final String LOGBACK_CONFIG = "tern-peers-logback.xml";

    private final Options opt;
    private final Path workDir;
    private final Map<String, ChildProcess.Memory> idle = new LinkedHashMap<>();
    private final Map<String, ChildProcess> brokers = new LinkedHashMap<>();
    private final List<AutoCloseable> servers = new ArrayList<>();
    /** workload -> target -> measured runs (PubSubResult, LatencyResult or DurableResult). */
    private final Map<Workload, Map<String, List<Object>>> results = new LinkedHashMap<>();
    /** workload -> target -> why it has no (or fewer) figures. */
    private final Map<Workload, Map<String, String>> problems = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();
    private boolean failed;

    private Compare(Options opt, Path workDir) {
        this.opt = opt;
        this.workDir = workDir;
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", LOGBACK_CONFIG);
        }
        Options opt;
        try {
            opt = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("compare: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        if (opt.help) {
            System.out.println(Options.USAGE);
            return;
        }
        if (opt.timelineDir != null) {
            Files.createDirectories(opt.timelineDir); // fails here, before any broker starts, not inside a run
        }
        Path workDir = opt.workDir != null ? Files.createDirectories(opt.workDir)
                : Files.createTempDirectory("tern-peers-");
        Compare c = new Compare(opt, workDir);
        int status;
        try {
            status = c.runAll();
        } finally {
            c.stopAll();
            if (!opt.keepWorkDir) {
                ChildProcess.deleteTree(workDir);
            } else {
                System.out.println("# logs and data kept in " + workDir);
            }
        }
        System.exit(status);
    }

    private int runAll() throws Exception {
        long started = System.nanoTime();
        printMachine();
        List<Target> targets = new ArrayList<>();
        List<DurableTarget> durables = new ArrayList<>();
        startTargets(targets, durables);
        // idle = every broker started and ready, before the first workload (the JVM and the Erlang VM
        // settle for a few seconds after start; the slowest starter, RabbitMQ, gives the others that time)
        for (Map.Entry<String, ChildProcess> b : brokers.entrySet()) {
            idle.put(b.getKey(), b.getValue().memory());
            log(b.getKey() + " idle RSS " + idle.get(b.getKey()).rssMib() + " MiB");
        }
        for (Workload w : opt.workloads) {
            if (w == Workload.W4) {
                runDurable(durables);
            } else {
                runMessaging(w, targets);
            }
        }
        Map<String, ChildProcess.Memory> after = new LinkedHashMap<>();
        for (Map.Entry<String, ChildProcess> b : brokers.entrySet()) {
            after.put(b.getKey(), b.getValue().memory());
        }
        report(targets, durables, after, (System.nanoTime() - started) / 1e9);
        return failed ? 1 : 0;
    }

    // ---------------------------------------------------------------- start-up

    private void startTargets(List<Target> targets, List<DurableTarget> durables) throws Exception {
        boolean messaging = opt.workloads.stream().anyMatch(w -> w != Workload.W4);
        boolean durable = opt.workloads.contains(Workload.W4);
        for (String t : opt.targets) {
            switch (t) {
                case "tern" -> {
                    TernServer s = opt.ternAddress != null ? TernServer.external(opt.ternAddress)
                            : TernServer.start(workDir, opt.ternJvmArgs, opt.ternBrokerArgs);
                    servers.add(s);
                    track("tern", s.process());
                    notes.put("tern broker", s.launch());
                    if (messaging) {
                        targets.add(new TernTarget(s));
                    }
                    if (durable) {
                        durables.add(new TernDurable(s, opt.rabbitPrefetch));
                    }
                }
                case "nats" -> {
                    notes.put("nats-server", NatsServer.version() + " (Debian " + Versions.debianPackage("nats-server")
                            + "), defaults, -a 127.0.0.1 -p <free port>");
                    if (messaging) {
                        NatsServer s = NatsServer.start(workDir, false);
                        servers.add(s);
                        track("nats", s.process());
                        targets.add(new NatsTarget(s, opt.natsBufferBytes));
                    }
                    if (durable) {
                        NatsServer js = NatsServer.start(workDir, true);
                        servers.add(js);
                        track("nats-js", js.process());
                        durables.add(new JetStreamDurable(js, opt.natsBufferBytes));
                    }
                }
                case "rabbitmq" -> {
                    RabbitServer s = RabbitServer.start(workDir);
                    servers.add(s);
                    track("rabbitmq", s.process());
                    notes.put("rabbitmq-server", RabbitServer.version() + ", defaults, no plugins, started from "
                            + RabbitServer.SCRIPT + " with RABBITMQ_* env in a temp dir");
                    if (messaging) {
                        targets.add(new RabbitTarget(s));
                    }
                    if (durable) {
                        durables.add(new RabbitDurable(s, "classic", opt.rabbitPrefetch));
                        durables.add(new RabbitDurable(s, "quorum", opt.rabbitPrefetch));
                    }
                }
                default -> throw new IllegalStateException("unreachable: target " + t);
            }
        }
        for (Target t : targets) {
            notes.put(t.name() + " client", t.clientSettings());
        }
        for (DurableTarget d : durables) {
            notes.put(d.name() + " (W4)", d.settings() + "; producer " + new Pacer(opt.rate).describe()
                    + "; fsync before confirm: " + d.fsyncBeforeConfirm());
        }
    }

    private void track(String name, ChildProcess p) {
        if (p != null) {
            brokers.put(name, p);
            log("started " + name + " pid " + p.pid());
        } else {
            log(name + " is external: not started, RSS not measured");
        }
    }

    private void stopAll() {
        for (int i = servers.size() - 1; i >= 0; i--) {
            try {
                servers.get(i).close();
            } catch (Exception e) {
                System.err.println("compare: stopping " + servers.get(i) + ": " + e);
            }
        }
    }

    // ---------------------------------------------------------------- runs

    private void runMessaging(Workload w, List<Target> targets) {
        int msgs = w.messages(opt.w1Messages);
        int warmupRoundTrips = (int) Math.max(1, (long) msgs * Workload.W3_WARMUP_PER_100K / 100_000);
        log(w + " " + w.title + ": " + msgs + (w == Workload.W3 ? " round trips after " + warmupRoundTrips
                + " warm-up" : " messages") + ", " + opt.warmupRuns + " warm-up + " + opt.runs + " runs per target");
        Map<String, List<Object>> byTarget = results.computeIfAbsent(w, k -> new LinkedHashMap<>());
        int total = opt.warmupRuns + opt.runs;
        int counter = 0;
        for (int round = 0; round < total; round++) {
            boolean warmup = round < opt.warmupRuns;
            for (int k = 0; k < targets.size(); k++) {
                Target t = targets.get((round + k) % targets.size());
                if (problems.getOrDefault(w, Map.of()).containsKey(t.name())) {
                    continue; // failed before; do not spend the time budget on it again
                }
                String subject = "bench." + w.name().toLowerCase(Locale.ROOT) + ".r" + (++counter);
                String label = w + " " + t.name() + (warmup ? " warm-up" : " run " + (round - opt.warmupRuns + 1));
                try {
                    Object r = switch (w) {
                        case W1 -> PubSubWorkload.run(t, subject, 1, msgs, w.payloadBytes, opt.runTimeout);
                        case W2 -> PubSubWorkload.run(t, subject, Workload.W2_SUBSCRIBERS, msgs, w.payloadBytes,
                                opt.runTimeout);
                        case W3 -> RequestReplyWorkload.run(t, subject, warmupRoundTrips, msgs, w.payloadBytes,
                                opt.runTimeout);
                        case W4 -> throw new IllegalStateException("unreachable: W4 is not a messaging workload");
                    };
                    log(label + ": " + describe(r));
                    if (!warmup) {
                        byTarget.computeIfAbsent(t.name(), k2 -> new ArrayList<>()).add(r);
                    }
                } catch (Exception e) {
                    fail(w, t.name(), label, e);
                }
            }
        }
    }

    private void runDurable(List<DurableTarget> durables) {
        Workload w = Workload.W4;
        int msgs = w.messages(opt.w1Messages);
        log(w + " " + w.title + ": " + msgs + " messages, at most " + opt.inFlight + " unconfirmed, "
                + new Pacer(opt.rate).describe() + ", " + opt.warmupRuns + " warm-up + " + opt.runs
                + " runs per target");
        Map<String, List<Object>> byTarget = results.computeIfAbsent(w, k -> new LinkedHashMap<>());
        int total = opt.warmupRuns + opt.runs;
        for (int round = 0; round < total; round++) {
            boolean warmup = round < opt.warmupRuns;
            for (int k = 0; k < durables.size(); k++) {
                DurableTarget d = durables.get((round + k) % durables.size());
                if (problems.getOrDefault(w, Map.of()).containsKey(d.name())) {
                    continue;
                }
                String label = w + " " + d.name() + (warmup ? " warm-up" : " run " + (round - opt.warmupRuns + 1));
                try {
                    DurableResult r = d.run(msgs, w.payloadBytes, opt.inFlight, new Pacer(opt.rate),
                            new ConfirmLatency(TimeUnit.SECONDS.toNanos(opt.settleSeconds)), opt.runTimeout);
                    log(label + ": " + describe(r));
                    writeTimeline(w + "-" + d.name() + "-" + (warmup ? "warmup" + (round + 1)
                            : "run" + (round - opt.warmupRuns + 1)), r);
                    if (!warmup) {
                        byTarget.computeIfAbsent(d.name(), k2 -> new ArrayList<>()).add(r);
                    }
                } catch (Exception e) {
                    fail(w, d.name(), label, e);
                }
            }
        }
    }

    /** Option --timeline: one "ms worst_us" line per 10 ms of due time. */
    private void writeTimeline(String name, DurableResult r) {
        if (opt.timelineDir == null) {
            return;
        }
        long[] worstNanos = r.timelineNanos();
        StringBuilder sb = new StringBuilder("# worst confirm latency per 10 ms of due time: ms-since-start worst-us\n"
                + "# start " + Instant.ofEpochMilli(r.startEpochMillis()) + " (" + r.startEpochMillis()
                + " ms since the epoch)\n");
        for (int b = 0; b < worstNanos.length; b++) {
            sb.append(b * TimeUnit.NANOSECONDS.toMillis(ConfirmLatency.BUCKET_NANOS)).append(' ')
                    .append(worstNanos[b] / 1000).append('\n');
        }
        Path file = opt.timelineDir.resolve(name + ".txt");
        try {
            Files.writeString(file, sb);
        } catch (IOException e) {
            log("cannot write timeline " + file + ": " + e); // the run itself went fine
        }
    }

    private void fail(Workload w, String target, String label, Exception e) {
        failed = true;
        String why = "failed: " + e.getClass().getSimpleName() + ": " + e.getMessage();
        problems.computeIfAbsent(w, k -> new LinkedHashMap<>()).put(target, why);
        log(label + " " + why);
        ChildProcess b = brokers.get(target);
        if (b != null && !b.isAlive()) {
            log(target + " broker died; log " + b.logFile() + ":\n" + b.logTail(20));
        }
    }

    private static String describe(Object r) {
        if (r instanceof PubSubResult p) {
            return String.format(Locale.ROOT, "%s deliveries/s (%d of %d), publish %s msgs/s%s",
                    rate(p.deliveredPerSec()), p.delivered(), p.expected(), rate(p.publishPerSec()),
                    p.lost() != 0 || p.wrongSize() != 0 ? ", LOST " + p.lost() + " wrong-size " + p.wrongSize() : "");
        }
        if (r instanceof LatencyResult l) {
            return String.format(Locale.ROOT, "p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f us (%d round trips)",
                    l.p50Us(), l.p90Us(), l.p99Us(), l.p999Us(), l.maxUs(), l.roundTrips());
        }
        DurableResult d = (DurableResult) r;
        return String.format(Locale.ROOT, "%s msgs/s end to end (%d consumed of %d, %d confirmed, %d nacked),"
                        + " confirm p50 %.0f p99 %.0f max %.0f us%s", rate(d.endToEndPerSec()), d.consumed(), d.produced(),
                d.confirmed(), d.nacked(), d.confirmP50Us(), d.confirmP99Us(), d.confirmMaxUs(),
                Double.isNaN(d.settledP99Us()) ? "" : String.format(Locale.ROOT, ", p99 %.0f us for messages due after the"
                        + " settle time", d.settledP99Us()));
    }

    // ---------------------------------------------------------------- report

    private void report(List<Target> targets, List<DurableTarget> durables, Map<String, ChildProcess.Memory> after,
                        double seconds) {
        StringBuilder out = new StringBuilder();
        out.append('\n');
        List<String> columns = new ArrayList<>(opt.targets);
        out.append("## Summary (medians of ").append(opt.runs).append(" runs after ").append(opt.warmupRuns)
                .append(" warm-up, same run, same machine)\n\n");
        out.append("| workload |");
        columns.forEach(c -> out.append(' ').append(c).append(" |"));
        out.append("\n| --- |");
        columns.forEach(c -> out.append(" ---: |"));
        out.append('\n');
        for (Workload w : opt.workloads) {
            int msgs = w.messages(opt.w1Messages);
            out.append("| ").append(w).append(' ').append(w.title).append(", ").append(String.format(Locale.ROOT,
                    "%,d", msgs)).append(w == Workload.W3 ? " round trips, p50 / p99 us" : w == Workload.W4
                    ? " msgs, msgs/s end to end" : w == Workload.W1 ? " msgs, delivered msgs/s" : " msgs, deliveries/s")
                    .append(" |");
            for (String c : columns) {
                out.append(' ').append(summaryCell(w, c)).append(" |");
            }
            out.append('\n');
        }
        out.append("| broker RSS idle / after runs / peak, MiB |");
        for (String c : columns) {
            List<String> cell = new ArrayList<>();
            for (String b : brokers.keySet()) {
                if (b.equals(c) || b.startsWith(c + "-")) {
                    cell.add((b.equals(c) ? "" : b + ": ") + idle.get(b).rssMib() + " / " + after.get(b).rssMib()
                            + " / " + after.get(b).peakMib());
                }
            }
            out.append(' ').append(cell.isEmpty() ? "not measured" : String.join("; ", cell)).append(" |");
        }
        out.append("\n\n");

        for (Workload w : opt.workloads) {
            out.append(detailTable(w));
        }
        out.append("## Settings\n\n");
        notes.forEach((k, v) -> out.append("- ").append(k).append(": ").append(v).append('\n'));
        out.append(String.format(Locale.ROOT, "- wall time of this invocation: %.0f s; load average after: %s"
                + " (on %d CPUs; other work on the machine skews every figure)%n%n", seconds, Versions.loadAverage(),
                Runtime.getRuntime().availableProcessors()));

        for (Workload w : opt.workloads) {
            resultLines(w, out);
        }
        for (String b : brokers.keySet()) {
            ChildProcess.Memory i = idle.get(b);
            ChildProcess.Memory a = after.get(b);
            out.append(String.format(Locale.ROOT, "RESULT rss target=%s idle_kib=%d after_kib=%d peak_kib=%d"
                    + " processes=%d%n", b, i.rssKib(), a.rssKib(), a.peakKib(), a.processes()));
        }
        System.out.print(out);
        System.out.flush();
    }

    private String summaryCell(Workload w, String target) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, List<Object>> e : ordered(w)) {
            if (!belongsTo(e.getKey(), target) || e.getValue().isEmpty()) {
                continue;
            }
            List<Object> runs = e.getValue();
            String v = switch (w) {
                case W1, W2 -> rate(Stats.median(runs, r -> ((PubSubResult) r).deliveredPerSec()))
                        + lostNote(runs);
                case W3 -> String.format(Locale.ROOT, "%.0f / %.0f", Stats.median(runs, r -> ((LatencyResult) r).p50Us()),
                        Stats.median(runs, r -> ((LatencyResult) r).p99Us()));
                case W4 -> rate(Stats.median(runs, r -> ((DurableResult) r).endToEndPerSec()))
                        + (e.getKey().equals(target) ? "" : " " + e.getKey().substring(e.getKey().indexOf('-') + 1))
                        + lostNote(runs);
            };
            parts.add(v);
        }
        for (Map.Entry<String, String> p : problems.getOrDefault(w, Map.of()).entrySet()) {
            if (belongsTo(p.getKey(), target)) {
                parts.add(p.getKey() + " " + p.getValue().substring(0, p.getValue().indexOf(':')));
            }
        }
        return parts.isEmpty() ? "-" : String.join(" / ", parts);
    }

    /** A workload's results in the order of --targets (runs rotate, so arrival order varies). */
    private List<Map.Entry<String, List<Object>>> ordered(Workload w) {
        List<Map.Entry<String, List<Object>>> entries = new ArrayList<>(results.getOrDefault(w, Map.of()).entrySet());
        entries.sort(java.util.Comparator.comparingInt((Map.Entry<String, List<Object>> e) -> {
            for (int i = 0; i < opt.targets.size(); i++) {
                if (belongsTo(e.getKey(), opt.targets.get(i))) {
                    return i;
                }
            }
            return opt.targets.size();
        }).thenComparing(Map.Entry::getKey));
        return entries;
    }

    /** W4 result names map to target columns: jetstream -> nats, rabbitmq-classic -> rabbitmq. */
    private static boolean belongsTo(String resultName, String target) {
        return resultName.equals(target) || resultName.startsWith(target + "-")
                || (target.equals("nats") && resultName.equals("jetstream"));
    }

    private static String lostNote(List<Object> runs) {
        long lost = 0;
        for (Object r : runs) {
            lost += r instanceof PubSubResult p ? p.lost() + p.wrongSize() : ((DurableResult) r).lost();
        }
        return lost == 0 ? "" : " (LOST " + lost + ")";
    }

    private String detailTable(Workload w) {
        StringBuilder out = new StringBuilder();
        int msgs = w.messages(opt.w1Messages);
        out.append("## ").append(w).append(' ').append(w.title).append(", ").append(String.format(Locale.ROOT, "%,d", msgs))
                .append(w == Workload.W3 ? " round trips" : " messages").append("\n\n");
        switch (w) {
            case W1, W2 -> out.append("| target | ").append(w == Workload.W1 ? "delivered msgs/s" : "deliveries/s")
                    .append(" (median) | each run | publish msgs/s (median) | lost, all runs |\n| --- | ---: | ---: | ---: | ---: |\n");
            case W3 -> out.append("| target | p50 us | p90 us | p99 us | p99.9 us | max us | p50 each run |\n"
                    + "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            case W4 -> out.append("| target | msgs/s end to end (median) | each run | confirm p50 us | confirm p99 us"
                    + " | p99 us, due after " + opt.settleSeconds + " s | lost / nacked, all runs | fsync before confirm |\n"
                    + "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        }
        for (Map.Entry<String, List<Object>> e : ordered(w)) {
            List<Object> runs = e.getValue();
            if (runs.isEmpty()) {
                continue;
            }
            String name = e.getKey();
            switch (w) {
                case W1, W2 -> {
                    long lost = 0;
                    List<String> each = new ArrayList<>();
                    for (Object o : runs) {
                        PubSubResult p = (PubSubResult) o;
                        lost += p.lost() + p.wrongSize();
                        each.add(rate(p.deliveredPerSec()));
                    }
                    out.append("| ").append(name).append(" | ")
                            .append(rate(Stats.median(runs, r -> ((PubSubResult) r).deliveredPerSec()))).append(" | ")
                            .append(String.join(", ", each)).append(" | ")
                            .append(rate(Stats.median(runs, r -> ((PubSubResult) r).publishPerSec()))).append(" | ")
                            .append(lost).append(" |\n");
                }
                case W3 -> {
                    List<String> each = new ArrayList<>();
                    runs.forEach(o -> each.add(String.format(Locale.ROOT, "%.0f", ((LatencyResult) o).p50Us())));
                    out.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s |%n", name,
                            Stats.median(runs, r -> ((LatencyResult) r).p50Us()),
                            Stats.median(runs, r -> ((LatencyResult) r).p90Us()),
                            Stats.median(runs, r -> ((LatencyResult) r).p99Us()),
                            Stats.median(runs, r -> ((LatencyResult) r).p999Us()),
                            Stats.median(runs, r -> ((LatencyResult) r).maxUs()), String.join(", ", each)));
                }
                case W4 -> {
                    long lost = 0;
                    long nacked = 0;
                    List<String> each = new ArrayList<>();
                    for (Object o : runs) {
                        DurableResult d = (DurableResult) o;
                        lost += d.lost();
                        nacked += d.nacked();
                        each.add(rate(d.endToEndPerSec()));
                    }
                    double settled = Stats.median(runs, r -> ((DurableResult) r).settledP99Us());
                    out.append(String.format(Locale.ROOT, "| %s | %s | %s | %.0f | %.0f | %s | %d / %d | %s |%n", name,
                            rate(Stats.median(runs, r -> ((DurableResult) r).endToEndPerSec())), String.join(", ", each),
                            Stats.median(runs, r -> ((DurableResult) r).confirmP50Us()),
                            Stats.median(runs, r -> ((DurableResult) r).confirmP99Us()),
                            Double.isNaN(settled) ? "- (runs too short)" : String.format(Locale.ROOT, "%.0f", settled),
                            lost, nacked,
                            fsyncNote(name)));
                }
            }
        }
        for (Map.Entry<String, String> p : problems.getOrDefault(w, Map.of()).entrySet()) {
            out.append("| ").append(p.getKey()).append(" | ").append(p.getValue().replace('|', '/')).append(" |\n");
        }
        out.append('\n');
        return out.toString();
    }

    private String fsyncNote(String durableName) {
        String n = notes.getOrDefault(durableName + " (W4)", "");
        int i = n.indexOf("fsync before confirm: ");
        return i < 0 ? "" : n.substring(i + "fsync before confirm: ".length());
    }

    private void resultLines(Workload w, StringBuilder out) {
        for (Map.Entry<String, List<Object>> e : ordered(w)) {
            List<Object> runs = e.getValue();
            if (runs.isEmpty()) {
                continue;
            }
            out.append("RESULT workload=").append(w).append(" target=").append(e.getKey());
            switch (w) {
                case W1, W2 -> {
                    long lost = 0;
                    List<String> each = new ArrayList<>();
                    for (Object o : runs) {
                        lost += ((PubSubResult) o).lost() + ((PubSubResult) o).wrongSize();
                        each.add(Long.toString(Math.round(((PubSubResult) o).deliveredPerSec())));
                    }
                    out.append(String.format(Locale.ROOT, " delivered_per_sec=%d publish_per_sec=%d lost=%d runs=%s",
                            Math.round(Stats.median(runs, r -> ((PubSubResult) r).deliveredPerSec())),
                            Math.round(Stats.median(runs, r -> ((PubSubResult) r).publishPerSec())), lost,
                            String.join(",", each)));
                }
                case W3 -> out.append(String.format(Locale.ROOT,
                        " p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f runs=%d",
                        Stats.median(runs, r -> ((LatencyResult) r).p50Us()),
                        Stats.median(runs, r -> ((LatencyResult) r).p90Us()),
                        Stats.median(runs, r -> ((LatencyResult) r).p99Us()),
                        Stats.median(runs, r -> ((LatencyResult) r).p999Us()),
                        Stats.median(runs, r -> ((LatencyResult) r).maxUs()), runs.size()));
                case W4 -> {
                    long lost = 0;
                    long nacked = 0;
                    List<String> each = new ArrayList<>();
                    for (Object o : runs) {
                        lost += ((DurableResult) o).lost();
                        nacked += ((DurableResult) o).nacked();
                        each.add(Long.toString(Math.round(((DurableResult) o).endToEndPerSec())));
                    }
                    String fsync = fsyncNote(e.getKey());
                    out.append(String.format(Locale.ROOT, " e2e_per_sec=%d confirm_p50_us=%.0f confirm_p99_us=%.0f"
                                    + " confirm_p99_settled_us=%.0f lost=%d nacked=%d fsync_before_confirm=%s runs=%s",
                            Math.round(Stats.median(runs, r -> ((DurableResult) r).endToEndPerSec())),
                            Stats.median(runs, r -> ((DurableResult) r).confirmP50Us()),
                            Stats.median(runs, r -> ((DurableResult) r).confirmP99Us()),
                            Stats.median(runs, r -> ((DurableResult) r).settledP99Us()), lost, nacked,
                            fsync.startsWith("yes") ? "yes" : fsync.startsWith("no") ? "no" : "unknown",
                            String.join(",", each)));
                }
            }
            out.append('\n');
        }
        for (Map.Entry<String, String> p : problems.getOrDefault(w, Map.of()).entrySet()) {
            String status = p.getValue().startsWith("not measured") ? "not_measured" : "failed";
            out.append("RESULT workload=").append(w).append(" target=").append(p.getKey()).append(" status=")
                    .append(status).append(" reason=\"").append(p.getValue().replace('"', '\'')).append("\"\n");
        }
    }

    /** 1234567 -> "1.23M", 118765 -> "119k". */
    static String rate(double perSec) {
        if (perSec >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", perSec / 1e6);
        }
        if (perSec >= 1e4) {
            return String.format(Locale.ROOT, "%.0fk", perSec / 1e3);
        }
        if (perSec >= 1e3) {
            return String.format(Locale.ROOT, "%.1fk", perSec / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", perSec);
    }

    private void printMachine() {
        String model = "unknown";
        String memTotal = "unknown";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    model = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    memTotal = String.format(Locale.ROOT, "%.1f GiB",
                            Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | NumberFormatException e) {
            model = "unknown (" + e.getMessage() + ")";
        }
        String kernel = Versions.commandOutput(List.of("uname", "-sr"));
        System.out.println("# tern-peers Compare " + String.join(" ", opt.args));
        System.out.println("# machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (" + model + "), "
                + memTotal + " RAM, " + kernel + ", Java " + System.getProperty("java.runtime.version") + " ("
                + System.getProperty("java.vm.name") + ")");
        System.out.println("# client JVM: " + String.join(" ",
                java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
        System.out.println("# work dir: " + workDir);
        System.out.println("# load average before: " + Versions.loadAverage());
    }

    private static void log(String line) {
        System.out.println("# " + line);
        System.out.flush();
    }

    /** Command-line options. */
    static final class Options {
        static final String USAGE = """
                usage: Compare [options]
                  --workloads W1,W2,W3,W4   workloads to run (default W1,W2,W3)
                  --targets tern,nats,rabbitmq
                                            brokers (default tern,nats); for W4 nats means JetStream and
                                            rabbitmq means a classic and a quorum queue
                  --runs N                  measured runs per target, median reported (default 3)
                  --warmup-runs N           unreported runs per target first (default 1)
                  --msgs N                  W1 messages (default 1000000); W2 gets N/2, W3 N/10 round trips
                                            after N/50 warm-up, W4 N/5, as in PEERS.md
                  --tern HOST:PORT          use a running Tern broker instead of starting a child JVM
                  --tern-jvm-args "ARGS"    JVM options for the child Tern broker (default none: JVM defaults)
                  --tern-broker-args "ARGS" extra BrokerMain options, e.g. "--event_loop_threads=2"
                  --nats-buffer-bytes N     jnats Options.bufferSize (default 262144, same as Tern's client)
                  --rabbit-prefetch N       W4 RabbitMQ and Tern consumer prefetch (default 1000)
                  --in-flight N             W4 unconfirmed messages at most (default 1000)
                  --rate N                  W4 producer paced at N msgs/s, confirm latency measured from when
                                            each message was due (default 0: as fast as the window allows)
                  --settle-seconds N        W4 also reports the confirm p99 of messages due N s or more after a
                                            run's start (default 2: a fresh queue's first moments left out)
                  --timeline DIR            W4: write DIR/W4-<target>-<run>.txt, the worst confirm latency per
                                            10 ms of due time, one "ms worst_us" line each
                  --run-timeout-seconds N   bound on one run (default 120)
                  --work-dir DIR            for broker data and logs (default a new temp dir)
                  --keep-work-dir           keep it afterwards (default: deleted)
                """;
        final List<String> args;
        Set<Workload> workloads = new LinkedHashSet<>(List.of(Workload.W1, Workload.W2, Workload.W3));
        List<String> targets = List.of("tern", "nats");
        int runs = 3;
        int warmupRuns = 1;
        long w1Messages = Workload.W1.defaultMessages;
        String ternAddress;
        List<String> ternJvmArgs = List.of();
        List<String> ternBrokerArgs = List.of();
        int natsBufferBytes = 256 * 1024;
        int rabbitPrefetch = 1000;
        int inFlight = 1000;
        int rate;
        int settleSeconds = 2;
        Path timelineDir;
        Duration runTimeout = Duration.ofSeconds(120);
        Path workDir;
        boolean keepWorkDir;
        boolean help;

        private Options(String[] args) {
            this.args = List.of(args);
        }

        static Options parse(String[] args) {
            Options o = new Options(args);
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                }
                if (a.equals("--help") || a.equals("-h")) {
                    o.help = true;
                    continue;
                }
                if (a.equals("--keep-work-dir")) {
                    o.keepWorkDir = true;
                    continue;
                }
                if (v == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    v = args[++i];
                }
                switch (a) {
                    case "--workloads" -> {
                        o.workloads = new LinkedHashSet<>();
                        for (String w : v.split(",")) {
                            try {
                                o.workloads.add(Workload.parse(w));
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException("unknown workload " + w + "; known: W1,W2,W3,W4");
                            }
                        }
                    }
                    case "--targets" -> {
                        o.targets = new ArrayList<>(new LinkedHashSet<>(Arrays.asList(v.split(","))));
                        for (String t : o.targets) {
                            if (!Set.of("tern", "nats", "rabbitmq").contains(t)) {
                                throw new IllegalArgumentException("unknown target " + t + "; known: tern,nats,rabbitmq");
                            }
                        }
                    }
                    case "--runs" -> o.runs = positive(a, v, 0, 100);
                    case "--warmup-runs" -> o.warmupRuns = positive(a, v, 0, 10);
                    case "--msgs" -> o.w1Messages = positive(a, v, 10, 100_000_000);
                    case "--tern" -> o.ternAddress = v;
                    case "--tern-jvm-args" -> o.ternJvmArgs = words(v);
                    case "--tern-broker-args" -> o.ternBrokerArgs = words(v);
                    case "--nats-buffer-bytes" -> o.natsBufferBytes = positive(a, v, 4096, 64 << 20);
                    case "--rabbit-prefetch" -> o.rabbitPrefetch = positive(a, v, 1, 65_535);
                    case "--in-flight" -> o.inFlight = positive(a, v, 1, 1_000_000);
                    case "--rate" -> o.rate = positive(a, v, 0, 100_000_000);
                    case "--settle-seconds" -> o.settleSeconds = positive(a, v, 0, 3600);
                    case "--timeline" -> o.timelineDir = Path.of(v);
                    case "--run-timeout-seconds" -> o.runTimeout = Duration.ofSeconds(positive(a, v, 1, 3600));
                    case "--work-dir" -> o.workDir = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (o.runs < 1) {
                throw new IllegalArgumentException("--runs must be at least 1");
            }
            return o;
        }

        private static int positive(String name, String v, int min, int max) {
            try {
                long n = Long.parseLong(v.replace("_", "").replace(",", ""));
                if (n < min || n > max) {
                    throw new IllegalArgumentException(name + " " + n + " outside " + min + ".." + max);
                }
                return (int) n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " wants a number, got " + v);
            }
        }

        private static List<String> words(String v) {
            String t = v.trim();
            return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
        }
    }
}
