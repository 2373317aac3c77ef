package tern.broker.guard;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Admission per remote address: a count of open connections and a token bucket of new ones.
 * Thread-safe (one lock; it is taken once at accept and once at close). The map of addresses is
 * bounded by {@link #MAX_TRACKED_ADDRESSES}: past it, addresses with no open connection are
 * forgotten (their rate history restarts full).
 */
public final class AddressGuard {
    /** Most addresses remembered at once. */
    public static final int MAX_TRACKED_ADDRESSES = 65_536;
    private static final long SECOND_NANOS = 1_000_000_000L;

    /** Why a connection was refused, or ADMITTED. */
    public enum Verdict { ADMITTED, TOO_MANY_OPEN, TOO_FAST }

    private static final class Entry {
        int open;
        double tokens;
        long refilledNanos;
    }

    private final AddressLimits limits;
    private final LongSupplier nanoClock;
    private final Map<InetAddress, Entry> entries = new HashMap<>();

    public AddressGuard(AddressLimits limits) {
        this(limits, System::nanoTime);
    }

    /** With an injected monotonic clock (tests). */
    public AddressGuard(AddressLimits limits, LongSupplier nanoClock) {
        this.limits = limits;
        this.nanoClock = nanoClock;
    }

    public AddressLimits limits() {
        return limits;
    }

    /** Takes a slot for a new connection from address; on ADMITTED the caller must {@link #release} it once. */
    public synchronized Verdict admit(InetAddress address) {
        long now = nanoClock.getAsLong();
        Entry e = entries.get(address);
        if (e == null) {
            if (entries.size() >= MAX_TRACKED_ADDRESSES) {
                sweep();
            }
            e = new Entry();
            e.tokens = limits.burst();
            e.refilledNanos = now;
            entries.put(address, e);
        } else {
            double rate = limits.maxNewConnectionsPerSecond();
            e.tokens = Math.min(limits.burst(), e.tokens + (now - e.refilledNanos) * rate / SECOND_NANOS);
            e.refilledNanos = now;
        }
        if (e.open >= limits.maxConnectionsPerAddress()) {
            return Verdict.TOO_MANY_OPEN;
        }
        if (e.tokens < 1) {
            return Verdict.TOO_FAST;
        }
        e.tokens -= 1;
        e.open++;
        return Verdict.ADMITTED;
    }

    /** Gives back the slot of an admitted connection that closed. */
    public synchronized void release(InetAddress address) {
        Entry e = entries.get(address);
        if (e == null || e.open <= 0) {
            throw new IllegalStateException("release of " + address + " without an open connection");
        }
        e.open--;
    }

    /** Open connections from address (for tests and stats). */
    public synchronized int open(InetAddress address) {
        Entry e = entries.get(address);
        return e == null ? 0 : e.open;
    }

    /** Addresses currently remembered. */
    public synchronized int trackedAddresses() {
        return entries.size();
    }

    private void sweep() {
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            if (it.next().open == 0) {
                it.remove();
            }
        }
    }
}
