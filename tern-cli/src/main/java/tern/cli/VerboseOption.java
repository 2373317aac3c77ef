package tern.cli;

import picocli.CommandLine.Option;

/** Mixed into every command: --verbose shows stack traces of failures. */
public final class VerboseOption {
    public static final String NAME = "--verbose";

    @Option(names = {"-v", NAME}, description = "Print stack traces of failures.")
    boolean verbose;
}
