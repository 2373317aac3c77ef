package tern.peers;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/** nats-server through jnats: default options except the socket buffer size (see {@link #clientSettings()}). */
final class NatsTarget implements Target {
    private final NatsServer server;
    private final int bufferBytes;

    NatsTarget(NatsServer server, int bufferBytes) {
        this.server = server;
        this.bufferBytes = bufferBytes;
    }

    @Override
    public String name() {
        return "nats";
    }

    static Connection connect(String url, String label, int bufferBytes) throws Exception {
        Options o = Options.builder().server(url).connectionName(label).bufferSize(bufferBytes).build();
        return Nats.connect(o);
    }

    @Override
    public Endpoint connect(String label) throws Exception {
        return new NatsEndpoint(connect(server.url(), label, bufferBytes));
    }

    /** jnats' close throws InterruptedException; keep the interrupt, lose nothing else. */
    static void closeQuietly(Connection nc) {
        try {
            nc.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public String clientSettings() {
        return "jnats " + Versions.bundleVersion(Nats.class) + " defaults, bufferSize " + bufferBytes
                + " (default " + Options.DEFAULT_BUFFER_SIZE + "); one Dispatcher per subscribing connection";
    }

    private static final class NatsEndpoint implements Endpoint {
        private final Connection nc;

        NatsEndpoint(Connection nc) {
            this.nc = nc;
        }

        @Override
        public void publish(String subject, byte[] payload) {
            nc.publish(subject, payload);
        }

        @Override
        public void subscribe(String subject, IntConsumer onMessage) throws Exception {
            Dispatcher d = nc.createDispatcher(m -> onMessage.accept(m.getData().length));
            d.subscribe(subject);
            nc.flush(Duration.ofSeconds(30));
        }

        @Override
        public void serveEcho(String subject) throws Exception {
            Dispatcher d = nc.createDispatcher(m -> nc.publish(m.getReplyTo(), m.getData()));
            d.subscribe(subject);
            nc.flush(Duration.ofSeconds(30));
        }

        @Override
        public byte[] request(String subject, byte[] payload, Duration timeout) throws Exception {
            Message reply = nc.request(subject, payload, timeout);
            if (reply == null) {
                throw new TimeoutException("no reply within " + timeout);
            }
            return reply.getData();
        }

        @Override
        public void flush(Duration timeout) throws Exception {
            nc.flush(timeout);
        }

        @Override
        public void close() {
            closeQuietly(nc);
        }
    }
}
