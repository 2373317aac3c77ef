package tern.client;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import tern.protocol.Frame;
import tern.protocol.Limits;

/**
 * How to connect. Build with {@link #builder()}; every field has a default.
 *
 * @param host                  server host (default 127.0.0.1)
 * @param port                  server port (default {@link #DEFAULT_PORT})
 * @param name                  client name sent in HELLO (default "")
 * @param connectTimeout        bound on TCP connect + handshake; also the wait for a subscribe's OK (default 5 s)
 * @param reconnect             reconnect after a lost connection or GOAWAY (default true)
 * @param maxReconnects         reconnect attempts per outage before giving up and closing; -1 forever (default -1)
 * @param reconnectWaitMin      first backoff; doubles per failed attempt (default 10 ms)
 * @param reconnectWaitMax      backoff ceiling; each wait is jittered in [wait/2, wait] (default 2 s)
 * @param listener              events and asynchronous errors, or null
 * @param writeBufferBytes      size of each of the two write buffers; publish blocks when full (default 256 KiB)
 * @param readBufferBytes       read buffer size; larger frames get a temporary buffer (default 256 KiB)
 * @param maxFrameBytes         largest frame body this client accepts, 0 = the server's limit (default 0)
 * @param dispatchQueueMessages bound of the queue between the reader and the dispatch thread (default 16384)
 * @param credentials           how to authenticate (SCRAM user and password, or a token), or null for none
 *                              (default); every reconnect authenticates again with them
 * @param tls                   TLS settings, or null for plaintext (default null; see {@link Builder#tls(boolean)})
 * @param maxUnconfirmed        most queue sends awaiting their confirm; {@link Connection#send} blocks at it (default 1000)
 */
public record ConnectOptions(String host, int port, String name, Duration connectTimeout, boolean reconnect,
                             int maxReconnects, Duration reconnectWaitMin, Duration reconnectWaitMax,
                             ConnectionListener listener, int writeBufferBytes, int readBufferBytes,
                             int maxFrameBytes, int dispatchQueueMessages, Credentials credentials, TlsOptions tls,
                             int maxUnconfirmed) {
    /** Port used when none is given. */
    public static final int DEFAULT_PORT = 7420;
    /** Smallest write and read buffer: room for a handful of ordinary frames. */
    public static final int MIN_BUFFER_BYTES = 4096;

    public ConnectOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(name, "name");
        requirePositive("connectTimeout", connectTimeout);
        requirePositive("reconnectWaitMin", reconnectWaitMin);
        requirePositive("reconnectWaitMax", reconnectWaitMax);
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port " + port + " outside 0..65535");
        }
        if (reconnectWaitMax.compareTo(reconnectWaitMin) < 0) {
            throw new IllegalArgumentException("reconnectWaitMax " + reconnectWaitMax + " < min " + reconnectWaitMin);
        }
        if (maxReconnects < -1) {
            throw new IllegalArgumentException("maxReconnects " + maxReconnects + " < -1");
        }
        if (writeBufferBytes < MIN_BUFFER_BYTES || readBufferBytes < MIN_BUFFER_BYTES) {
            throw new IllegalArgumentException("buffers must be >= " + MIN_BUFFER_BYTES + " bytes: write "
                    + writeBufferBytes + ", read " + readBufferBytes);
        }
        if (maxFrameBytes != 0 && (maxFrameBytes < Frame.HEADER_BYTES + 64 || maxFrameBytes > Limits.ABSOLUTE_MAX_FRAME_BYTES)) {
            throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes + " outside "
                    + (Frame.HEADER_BYTES + 64) + ".." + Limits.ABSOLUTE_MAX_FRAME_BYTES + " (or 0)");
        }
        if (maxUnconfirmed < 1 || maxUnconfirmed > (1 << 20)) {
            throw new IllegalArgumentException("maxUnconfirmed " + maxUnconfirmed + " outside 1..1048576");
        }
        if (dispatchQueueMessages < 1 || dispatchQueueMessages > (1 << 24)) {
            throw new IllegalArgumentException("dispatchQueueMessages " + dispatchQueueMessages + " outside 1..16777216");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.name = name;
        b.connectTimeout = connectTimeout;
        b.reconnect = reconnect;
        b.maxReconnects = maxReconnects;
        b.reconnectWaitMin = reconnectWaitMin;
        b.reconnectWaitMax = reconnectWaitMax;
        b.listener = listener;
        b.writeBufferBytes = writeBufferBytes;
        b.readBufferBytes = readBufferBytes;
        b.maxFrameBytes = maxFrameBytes;
        b.dispatchQueueMessages = dispatchQueueMessages;
        b.maxUnconfirmed = maxUnconfirmed;
        b.credentials = credentials;
        b.tls = tls != null;
        if (tls != null) {
            b.tlsCaFile = tls.caFile();
            b.tlsClientCert = tls.clientCertFile();
            b.tlsClientKey = tls.clientKeyFile();
            b.tlsVerifyHostname = tls.verifyHostname();
        }
        return b;
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }

    /** Builder for {@link ConnectOptions}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = DEFAULT_PORT;
        private String name = "";
        private Duration connectTimeout = Duration.ofSeconds(5);
        private boolean reconnect = true;
        private int maxReconnects = -1;
        private Duration reconnectWaitMin = Duration.ofMillis(10);
        private Duration reconnectWaitMax = Duration.ofSeconds(2);
        private ConnectionListener listener;
        private int writeBufferBytes = 256 << 10;
        private int readBufferBytes = 256 << 10;
        private int maxFrameBytes;
        private int dispatchQueueMessages = 16_384;
        private int maxUnconfirmed = 1000;
        private Credentials credentials;
        private boolean tls;
        private Path tlsCaFile;
        private Path tlsClientCert;
        private Path tlsClientKey;
        private boolean tlsVerifyHostname = true;
        private String user;
        private String password;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder reconnect(boolean reconnect) {
            this.reconnect = reconnect;
            return this;
        }

        /** Attempts per outage before closing; -1 retries forever. */
        public Builder maxReconnects(int maxReconnects) {
            this.maxReconnects = maxReconnects;
            return this;
        }

        /** Backoff between attempts: starts at min, doubles up to max, each wait jittered down by up to half. */
        public Builder reconnectWait(Duration min, Duration max) {
            this.reconnectWaitMin = min;
            this.reconnectWaitMax = max;
            return this;
        }

        public Builder listener(ConnectionListener listener) {
            this.listener = listener;
            return this;
        }

        public Builder writeBufferBytes(int writeBufferBytes) {
            this.writeBufferBytes = writeBufferBytes;
            return this;
        }

        public Builder readBufferBytes(int readBufferBytes) {
            this.readBufferBytes = readBufferBytes;
            return this;
        }

        public Builder maxFrameBytes(int maxFrameBytes) {
            this.maxFrameBytes = maxFrameBytes;
            return this;
        }

        /** Most queue sends awaiting their confirm (the publisher window); send blocks at it. Default 1000. */
        public Builder maxUnconfirmed(int maxUnconfirmed) {
            this.maxUnconfirmed = maxUnconfirmed;
            return this;
        }

        public Builder dispatchQueueMessages(int dispatchQueueMessages) {
            this.dispatchQueueMessages = dispatchQueueMessages;
            return this;
        }

        /** The user name for SCRAM-SHA-256; give {@link #password} too. */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /**
         * The password for SCRAM-SHA-256. It never leaves this process: the server gets a proof bound to
         * this exchange, and proves in turn that it knows the user's verifier (else the connection is
         * refused with {@link ServerIdentityException}).
         */
        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** A bearer token (TOKEN mechanism) instead of user and password. Use it only over TLS. */
        public Builder token(String token) {
            this.credentials = token == null ? null : Credentials.token(token);
            return this;
        }

        public Builder credentials(Credentials credentials) {
            this.credentials = credentials;
            return this;
        }

        /** Connect over TLS (TLSv1.3 or TLSv1.2); the tls... options below imply it. Default false. */
        public Builder tls(boolean tls) {
            this.tls = tls;
            return this;
        }

        /** PEM CA certificate(s) that must have signed the server's certificate (default: the JDK trust store). */
        public Builder tlsCaFile(Path caFile) {
            this.tls = true;
            this.tlsCaFile = caFile;
            return this;
        }

        /** PEM certificate chain presented to a server that asks for client certificates (mTLS); needs tlsClientKey. */
        public Builder tlsClientCert(Path certFile) {
            this.tls = true;
            this.tlsClientCert = certFile;
            return this;
        }

        /** PEM PKCS#8 unencrypted private key of tlsClientCert. */
        public Builder tlsClientKey(Path keyFile) {
            this.tls = true;
            this.tlsClientKey = keyFile;
            return this;
        }

        /**
         * Whether the server certificate must name the host connected to (default true). <b>Unsafe</b>
         * when false: any certificate from a trusted CA is accepted for any host, so whoever holds one can
         * impersonate the server. Only for tests and tightly controlled networks.
         */
        public Builder tlsVerifyHostname(boolean verify) {
            this.tlsVerifyHostname = verify;
            return this;
        }

        /** @throws IllegalArgumentException for a user without password (or the reverse), or both a token and a user */
        public ConnectOptions build() {
            Credentials c = credentials;
            if (user != null || password != null) {
                if (user == null || password == null) {
                    throw new IllegalArgumentException(user == null ? "password given without user" : "user '" + user
                            + "' given without password");
                }
                if (c != null && !c.mechanism().equals(tern.protocol.auth.AuthMechanism.SCRAM_SHA_256)) {
                    throw new IllegalArgumentException("give either user and password or a token, not both");
                }
                c = Credentials.password(user, password);
            }
            return new ConnectOptions(host, port, name, connectTimeout, reconnect, maxReconnects, reconnectWaitMin,
                    reconnectWaitMax, listener, writeBufferBytes, readBufferBytes, maxFrameBytes, dispatchQueueMessages,
                    c, tls ? new TlsOptions(tlsCaFile, tlsClientCert, tlsClientKey, tlsVerifyHostname) : null,
                    maxUnconfirmed);
        }
    }
}
