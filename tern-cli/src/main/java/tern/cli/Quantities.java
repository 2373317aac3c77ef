package tern.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses the human quantities queue options take: durations such as {@code 500ms}, {@code 30s},
 * {@code 5m}, {@code 1h}, {@code 2d} and sizes such as {@code 512}, {@code 10KB}, {@code 10MB} (powers
 * of 1000) or {@code 64KiB}, {@code 1GiB} (powers of 1024). Units are case-insensitive; a bad value is
 * an {@link IllegalArgumentException} naming it, which picocli reports as a usage error (exit 2).
 */
public final class Quantities {
    /** Longest duration accepted: 365 days (queue TTLs and expiries beyond that are mistakes). */
    public static final Duration MAX_DURATION = Duration.ofDays(365);
    /** Largest size accepted: 1 PiB. */
    public static final long MAX_BYTES = 1L << 50;
    /** Longest text accepted before parsing. */
    private static final int MAX_TEXT_CHARS = 32;

    private Quantities() {
    }

    /** A non-negative whole number followed by ms, s, m, h or d. */
    public static Duration duration(String text) {
        String t = check(text, "duration");
        int split = digits(t, "duration");
        String unit = t.substring(split).toLowerCase(Locale.ROOT);
        long n = number(t, split, "duration");
        long limit;
        Duration d;
        switch (unit) {
            case "ms" -> {
                limit = MAX_DURATION.toMillis();
                d = n <= limit ? Duration.ofMillis(n) : null;
            }
            case "s" -> {
                limit = MAX_DURATION.toSeconds();
                d = n <= limit ? Duration.ofSeconds(n) : null;
            }
            case "m" -> {
                limit = MAX_DURATION.toMinutes();
                d = n <= limit ? Duration.ofMinutes(n) : null;
            }
            case "h" -> {
                limit = MAX_DURATION.toHours();
                d = n <= limit ? Duration.ofHours(n) : null;
            }
            case "d" -> {
                limit = MAX_DURATION.toDays();
                d = n <= limit ? Duration.ofDays(n) : null;
            }
            case "" -> throw new IllegalArgumentException("duration '" + text + "' has no unit (ms, s, m, h, d)");
            default -> throw new IllegalArgumentException("duration '" + text + "' has unknown unit '"
                    + unit + "' (ms, s, m, h, d)");
        }
        if (d == null) {
            throw new IllegalArgumentException("duration '" + text + "' exceeds " + MAX_DURATION.toDays() + " days");
        }
        return d;
    }

    /** A non-negative whole number of bytes, optionally followed by B, KB, MB, GB, TB, KiB, MiB, GiB or TiB. */
    public static long bytes(String text) {
        String t = check(text, "size");
        int split = digits(t, "size");
        String unit = t.substring(split).toLowerCase(Locale.ROOT);
        long n = number(t, split, "size");
        long multiplier = switch (unit) {
            case "", "b" -> 1L;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            default -> throw new IllegalArgumentException("size '" + text + "' has unknown unit '" + unit
                    + "' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
        };
        if (n > MAX_BYTES / multiplier) {
            throw new IllegalArgumentException("size '" + text + "' exceeds " + MAX_BYTES + " bytes");
        }
        return n * multiplier;
    }

    private static String check(String text, String what) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        String t = text.trim();
        if (t.length() > MAX_TEXT_CHARS) {
            throw new IllegalArgumentException(what + " '" + t.substring(0, MAX_TEXT_CHARS) + "...' longer than "
                    + MAX_TEXT_CHARS + " characters");
        }
        return t;
    }

    private static int digits(String t, String what) {
        int i = 0;
        while (i < t.length() && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException(what + " '" + t + "' does not start with a whole number");
        }
        return i;
    }

    private static long number(String t, int split, String what) {
        // at most 18 digits always fit in a long; more is out of range for every unit anyway
        if (split > 18) {
            throw new IllegalArgumentException(what + " '" + t + "' is too large");
        }
        return Long.parseLong(t.substring(0, split));
    }

    /** picocli converter for {@link #duration}. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return duration(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** picocli converter for {@link #bytes}. */
    public static final class BytesConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return bytes(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
