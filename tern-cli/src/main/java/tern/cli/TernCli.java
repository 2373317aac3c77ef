package tern.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;
import tern.cli.bench.BenchCommand;

/**
 * The {@code tern} command line. Exit codes: 0 ok, 1 the operation failed (one-line reason on
 * stderr, stack trace with --verbose), 2 usage error.
 */
@Command(name = "tern", mixinStandardHelpOptions = true, versionProvider = TernCli.Version.class,
        description = "Tern message broker and client tools.",
        subcommands = {BrokerCommand.class, PubCommand.class, SubCommand.class, ReqCommand.class,
                ReplyCommand.class, QueueCommand.class, SendCommand.class, ConsumeCommand.class, BenchCommand.class,
                UserCommand.class},
        commandListHeading = "%nCommands:%n",
        footer = {"", "Exit codes: 0 ok, 1 operation failed, 2 usage error."})
public final class TernCli implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, false, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = execute(out, err, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line with the given streams; returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return commandLine(out, err).execute(args);
    }

    /** The configured picocli command tree, writing to out and err. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new TernCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(USAGE_ERROR);
        cl.setExecutionExceptionHandler(FAILURE);
        return cl;
    }

    /** A short error and a pointer to --help, instead of the whole usage text. */
    private static final IParameterExceptionHandler USAGE_ERROR = (ex, args) -> {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return EXIT_USAGE;
    };

    private static final IExecutionExceptionHandler FAILURE = (ex, cl, parseResult) -> {
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        // the client rejects bad subjects, queue names and headers with IllegalArgumentException
        // before sending anything: that is the user's input, so it is a usage error
        boolean usage = ex instanceof IllegalArgumentException;
        String reason = ex instanceof CommandFailedException || usage
                ? Failures.oneLine(String.valueOf(ex.getMessage()))
                : ex.getClass().getSimpleName() + ": " + Failures.reason(ex);
        err.println(name + ": " + (usage ? "invalid argument: " : "") + Failures.oneLine(reason));
        if (verbose(parseResult)) {
            ex.printStackTrace(err);
        }
        if (usage) {
            err.println("Try '" + name + " --help' for more information.");
        }
        err.flush();
        return usage ? EXIT_USAGE : EXIT_FAILED;
    };

    private static boolean verbose(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption(VerboseOption.NAME)) {
                return true;
            }
        }
        return false;
    }

    /** Version from the jar manifest when packaged; "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TernCli.class.getPackage().getImplementationVersion();
            return new String[] {"tern " + (v == null ? "dev" : v)};
        }
    }
}
