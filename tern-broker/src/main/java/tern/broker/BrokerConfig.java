package tern.broker;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import tern.broker.guard.AddressLimits;
import tern.broker.tls.TlsConfig;
import tern.protocol.Limits;
import tern.queue.QueueLimits;

/**
 * Everything a {@link TernBroker} needs to start. Immutable; change with the {@code with...} methods.
 * {@link #load} reads the same settings from a file, the environment and flags (see
 * docs/configuration.md for every key).
 *
 * @param host             interface to bind; 127.0.0.1 by default because without a users file the
 *                         broker admits anyone: set 0.0.0.0 deliberately to accept remote clients
 * @param port             TCP port; 0 picks a free port ({@link TernBroker#port()} tells which)
 * @param dataDir          directory for persistent data (reserved for the storage log)
 * @param limits           the per-connection and per-server bounds, sent to clients in WELCOME
 * @param eventLoopThreads I/O threads serving connections (on 2 cores one loop measured fastest)
 * @param drainTimeout     how long {@link TernBroker#close()} lets clients finish after GOAWAY
 * @param usersFile        the users file (docs/security.md); null runs the broker open, without
 *                         authentication (it logs a WARN saying so at start)
 * @param tls              TLS on the client port, or null for plaintext (docs/security.md section 8)
 * @param addressLimits    per remote address connection count and rate (docs/security.md section 7)
 * @param queueLimits      the queue engine's bounds (docs/queues.md, "Limits"), among them the memory all queues
 *                         may hold
 */
public record BrokerConfig(String host, int port, Path dataDir, Limits limits, int eventLoopThreads,
                           Duration drainTimeout, Path usersFile, TlsConfig tls, AddressLimits addressLimits,
                           QueueLimits queueLimits) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 7420;
    public static final Path DEFAULT_DATA_DIR = Path.of("data");
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(5);
    /** Most event loop threads a broker accepts. */
    public static final int MAX_EVENT_LOOP_THREADS = 256;
    /** Prefix of the environment variables {@link #load} reads: TERN_ + the key in upper case. */
    public static final String ENV_PREFIX = "TERN_";

    /** Every key accepted in a config file, in the environment (as TERN_KEY) and as a flag override. */
    public static final List<String> KEYS = List.of(
            "host", "port", "data", "event_loop_threads", "drain_timeout_ms",
            "max_frame_bytes", "max_pre_auth_frame_bytes", "max_subject_bytes", "max_subject_tokens",
            "max_headers", "max_subscriptions", "max_connections", "max_pending_bytes", "max_pending_messages",
            "handshake_timeout_ms", "ping_interval_ms", "idle_timeout_ms", "users_file",
            "tls_cert", "tls_key", "tls_client_ca", "tls_client_auth", "tls_required",
            "max_connections_per_address", "max_new_connections_per_second_per_address", "max_queue_memory_bytes");

    public BrokerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(addressLimits, "addressLimits");
        Objects.requireNonNull(queueLimits, "queueLimits");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host is blank");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " outside 0..65535");
        }
        if (eventLoopThreads < 1 || eventLoopThreads > MAX_EVENT_LOOP_THREADS) {
            throw new IllegalArgumentException("eventLoopThreads " + eventLoopThreads + " outside 1.."
                    + MAX_EVENT_LOOP_THREADS);
        }
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout " + drainTimeout + " is negative");
        }
        long heap = Runtime.getRuntime().maxMemory();
        if (queueLimits.maxMemoryBytes() > heap) {
            throw new IllegalArgumentException("max_queue_memory_bytes " + queueLimits.maxMemoryBytes()
                    + " exceeds this JVM's max heap " + heap + ": it could not keep queues from running the broker out"
                    + " of memory (raise the heap with -Xmx, or lower it; default half the heap)");
        }
    }

    /**
     * 127.0.0.1:7420, data in ./data, {@link Limits#DEFAULT}, {@link QueueLimits#DEFAULT}, one event loop, 5 s
     * drain.
     */
    public static BrokerConfig defaults() {
        return new BrokerConfig(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_DATA_DIR, Limits.DEFAULT, 1, DEFAULT_DRAIN_TIMEOUT,
                null, null, AddressLimits.DEFAULT, QueueLimits.DEFAULT);
    }

    public BrokerConfig withHost(String v) {
        return new BrokerConfig(v, port, dataDir, limits, eventLoopThreads, drainTimeout, usersFile, tls,
                addressLimits, queueLimits);
    }

    public BrokerConfig withPort(int v) {
        return new BrokerConfig(host, v, dataDir, limits, eventLoopThreads, drainTimeout, usersFile, tls,
                addressLimits, queueLimits);
    }

    public BrokerConfig withDataDir(Path v) {
        return new BrokerConfig(host, port, v, limits, eventLoopThreads, drainTimeout, usersFile, tls,
                addressLimits, queueLimits);
    }

    public BrokerConfig withLimits(Limits v) {
        return new BrokerConfig(host, port, dataDir, v, eventLoopThreads, drainTimeout, usersFile, tls,
                addressLimits, queueLimits);
    }

    public BrokerConfig withEventLoopThreads(int v) {
        return new BrokerConfig(host, port, dataDir, limits, v, drainTimeout, usersFile, tls,
                addressLimits, queueLimits);
    }

    public BrokerConfig withDrainTimeout(Duration v) {
        return new BrokerConfig(host, port, dataDir, limits, eventLoopThreads, v, usersFile, tls,
                addressLimits, queueLimits);
    }

    /** TLS on the client port; null for plaintext. */
    public BrokerConfig withTls(TlsConfig v) {
        return new BrokerConfig(host, port, dataDir, limits, eventLoopThreads, drainTimeout, usersFile, v,
                addressLimits, queueLimits);
    }

    public BrokerConfig withQueueLimits(QueueLimits v) {
        return new BrokerConfig(host, port, dataDir, limits, eventLoopThreads, drainTimeout, usersFile, tls,
                addressLimits, v);
    }

    public BrokerConfig withAddressLimits(AddressLimits v) {
        return new BrokerConfig(host, port, dataDir, limits, eventLoopThreads, drainTimeout, usersFile, tls,
                v, queueLimits);
    }

    /** The users file; null runs the broker without authentication. */
    public BrokerConfig withUsersFile(Path v) {
        return new BrokerConfig(host, port, dataDir, limits, eventLoopThreads, drainTimeout, v, tls,
                addressLimits, queueLimits);
    }

    /**
     * Builds a config from {@link #defaults()}, then the file (java.util.Properties {@code key = value};
     * may be null), then environment variables {@code TERN_<KEY>} (other variables are ignored), then
     * overrides (flags; same keys as the file). Later sources win. An unknown key in the file or the
     * overrides, or a bad value anywhere, throws IllegalArgumentException naming the key and its source.
     */
    public static BrokerConfig load(Path file, Map<String, String> env, Map<String, String> overrides) {
        Map<String, Setting> settings = new LinkedHashMap<>();
        if (file != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
            }
            List<String> names = new ArrayList<>(p.stringPropertyNames());
            Collections.sort(names);
            for (String key : names) {
                put(settings, key, p.getProperty(key), "file " + file);
            }
        }
        if (env != null) {
            for (String key : KEYS) {
                String var = ENV_PREFIX + key.toUpperCase(Locale.ROOT);
                String value = env.get(var);
                if (value != null) {
                    put(settings, key, value, "environment " + var);
                }
            }
        }
        if (overrides != null) {
            for (Map.Entry<String, String> e : overrides.entrySet()) {
                put(settings, e.getKey(), e.getValue(), "flag " + e.getKey());
            }
        }
        return fromSettings(settings);
    }

    private record Setting(String value, String source) {
    }

    private static void put(Map<String, Setting> settings, String key, String value, String source) {
        String k = key.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        if (!KEYS.contains(k)) {
            throw new IllegalArgumentException("unknown config key '" + key + "' (from " + source
                    + "); known keys: " + String.join(", ", KEYS));
        }
        settings.put(k, new Setting(Objects.requireNonNull(value, key).trim(), source));
    }

    private static BrokerConfig fromSettings(Map<String, Setting> s) {
        BrokerConfig d = defaults();
        Limits l = Limits.DEFAULT;
        int maxFrameBytes = intOf(s, "max_frame_bytes", l.maxFrameBytes());
        Limits limits;
        try {
            limits = new Limits(
                    maxFrameBytes,
                    intOf(s, "max_pre_auth_frame_bytes", Math.min(l.maxPreAuthFrameBytes(), maxFrameBytes)),
                    intOf(s, "max_subject_bytes", l.maxSubjectBytes()),
                    intOf(s, "max_subject_tokens", l.maxSubjectTokens()),
                    intOf(s, "max_headers", l.maxHeaders()),
                    intOf(s, "max_subscriptions", l.maxSubscriptions()),
                    intOf(s, "max_connections", l.maxConnections()),
                    longOf(s, "max_pending_bytes", Math.max(l.maxPendingBytes(), maxFrameBytes)),
                    intOf(s, "max_pending_messages", l.maxPendingMessages()),
                    millisOf(s, "handshake_timeout_ms", l.handshakeTimeout()),
                    millisOf(s, "ping_interval_ms", l.pingInterval()),
                    millisOf(s, "idle_timeout_ms", l.idleTimeout()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid limits: " + e.getMessage(), e);
        }
        String host = s.containsKey("host") ? s.get("host").value() : d.host();
        Path data = s.containsKey("data") ? Path.of(s.get("data").value()) : d.dataDir();
        try {
            return new BrokerConfig(host, intOf(s, "port", d.port()), data, limits,
                    intOf(s, "event_loop_threads", d.eventLoopThreads()),
                    millisOf(s, "drain_timeout_ms", d.drainTimeout()),
                    s.containsKey("users_file") && !s.get("users_file").value().isEmpty()
                            ? Path.of(s.get("users_file").value()) : d.usersFile(), tlsOf(s),
                    new AddressLimits(
                            intOf(s, "max_connections_per_address", AddressLimits.DEFAULT.maxConnectionsPerAddress()),
                            intOf(s, "max_new_connections_per_second_per_address",
                                    AddressLimits.DEFAULT.maxNewConnectionsPerSecond())),
                    d.queueLimits().withMaxMemoryBytes(longOf(s, "max_queue_memory_bytes",
                            d.queueLimits().maxMemoryBytes())));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid config: " + e.getMessage(), e);
        }
    }

    /** tls_cert + tls_key turn TLS on (required unless tls_required=false); either alone is an error. */
    private static TlsConfig tlsOf(Map<String, Setting> s) {
        Setting cert = s.get("tls_cert");
        Setting key = s.get("tls_key");
        if (cert == null && key == null) {
            for (String k : List.of("tls_client_ca", "tls_client_auth", "tls_required")) {
                if (s.containsKey(k)) {
                    throw new IllegalArgumentException("config key '" + k + "' (from " + s.get(k).source()
                            + ") needs tls_cert and tls_key");
                }
            }
            return null;
        }
        if (cert == null || key == null) {
            throw new IllegalArgumentException("TLS needs both tls_cert and tls_key; only "
                    + (cert == null ? "tls_key (from " + key.source() : "tls_cert (from " + cert.source()) + ") is set");
        }
        Setting ca = s.get("tls_client_ca");
        Setting auth = s.get("tls_client_auth");
        TlsConfig.ClientAuth clientAuth = auth != null ? TlsConfig.ClientAuth.parse(auth.value())
                : ca != null ? TlsConfig.ClientAuth.REQUIRE : TlsConfig.ClientAuth.NONE;
        Setting required = s.get("tls_required");
        boolean req = true;
        if (required != null) {
            String v = required.value().toLowerCase(Locale.ROOT);
            if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException("config key 'tls_required' (from " + required.source() + "): '"
                        + required.value() + "' is not true or false");
            }
            req = v.equals("true");
        }
        return new TlsConfig(Path.of(cert.value()), Path.of(key.value()), ca == null ? null : Path.of(ca.value()),
                clientAuth, req);
    }

    private static long longOf(Map<String, Setting> s, String key, long fallback) {
        Setting v = s.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.value().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key '" + key + "' (from " + v.source() + "): '" + v.value()
                    + "' is not an integer");
        }
    }

    private static int intOf(Map<String, Setting> s, String key, int fallback) {
        long v = longOf(s, key, fallback);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("config key '" + key + "' (from " + s.get(key).source() + "): " + v
                    + " does not fit a 32-bit integer");
        }
        return (int) v;
    }

    private static Duration millisOf(Map<String, Setting> s, String key, Duration fallback) {
        return Duration.ofMillis(longOf(s, key, fallback.toMillis()));
    }
}
