package tern.broker.guard;

/**
 * Per remote IP address bounds, enforced at accept before any per-connection state is built
 * (docs/security.md section 7). Defaults are generous so loopback benchmarks with many clients
 * never meet them; a public-facing broker should lower them.
 *
 * @param maxConnectionsPerAddress     most open connections from one IP address (default 1,000)
 * @param maxNewConnectionsPerSecond   new connections one IP address may open per second, refilling a
 *                                     token bucket that holds {@link #burst()} (default 200)
 */
public record AddressLimits(int maxConnectionsPerAddress, int maxNewConnectionsPerSecond) {
    public static final AddressLimits DEFAULT = new AddressLimits(1_000, 200);

    /**
     * New connections an address may open at once before the rate applies: the larger of one second's
     * worth and maxConnectionsPerAddress (an address may hold that many open anyway, so a benchmark
     * that opens all its clients at once is not refused).
     */
    public int burst() {
        return Math.max(maxNewConnectionsPerSecond, maxConnectionsPerAddress);
    }

    public AddressLimits {
        if (maxConnectionsPerAddress < 1) {
            throw new IllegalArgumentException("maxConnectionsPerAddress " + maxConnectionsPerAddress + " < 1");
        }
        if (maxNewConnectionsPerSecond < 1) {
            throw new IllegalArgumentException("maxNewConnectionsPerSecond " + maxNewConnectionsPerSecond + " < 1");
        }
    }
}
