package tern.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Versions of the peers and the machine, printed with the results. */
final class Versions {
    private Versions() {
    }

    /** First line of a command's output, or "unknown (reason)". */
    static String commandOutput(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "unknown (timeout)";
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            int nl = out.indexOf('\n');
            return nl < 0 ? out : out.substring(0, nl);
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown (interrupted)";
        }
    }

    /** Bundle-Version from the manifest of the jar holding type (jnats has no Implementation-Version). */
    static String bundleVersion(Class<?> type) {
        try {
            java.net.URL where = type.getProtectionDomain().getCodeSource().getLocation();
            try (java.util.jar.JarFile jar = new java.util.jar.JarFile(java.nio.file.Path.of(where.toURI()).toFile())) {
                String v = jar.getManifest().getMainAttributes().getValue("Bundle-Version");
                return v == null ? "unknown" : v;
            }
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            return "unknown";
        }
    }

    /** /proc/loadavg's 1, 5 and 15 minute averages: other work on the machine skews every figure. */
    static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Version of a Debian package, e.g. "3.10.8-1.1+deb12u1". */
    static String debianPackage(String name) {
        return commandOutput(List.of("dpkg-query", "-W", "-f=${Version}", name));
    }
}
