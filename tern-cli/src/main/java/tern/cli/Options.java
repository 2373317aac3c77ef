package tern.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Range checks on option values; a bad value is a usage error (exit 2). */
final class Options {
    private Options() {
    }

    static void requirePositive(CommandSpec spec, String name, long value) {
        if (value <= 0) {
            throw new ParameterException(spec.commandLine(), name + " must be positive, was " + value);
        }
    }

    static void requireRange(CommandSpec spec, String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ParameterException(spec.commandLine(),
                    name + " " + value + " outside " + min + ".." + max);
        }
    }
}
