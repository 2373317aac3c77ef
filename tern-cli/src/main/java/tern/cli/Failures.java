package tern.cli;

/** Turns exceptions into the one-line reasons the CLI prints. */
public final class Failures {
    private Failures() {
    }

    /** The deepest useful message in a cause chain, e.g. "Connection refused". */
    public static String reason(Throwable t) {
        String best = null;
        int depth = 0;
        for (Throwable c = t; c != null && depth < 16; c = c.getCause(), depth++) {
            String m = c.getMessage();
            if (m != null && !m.isBlank()) {
                best = m;
            } else if (best == null) {
                best = c.getClass().getSimpleName();
            }
        }
        return best == null ? t.getClass().getSimpleName() : oneLine(best);
    }

    public static String oneLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
