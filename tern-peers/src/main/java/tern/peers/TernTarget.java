package tern.peers;

import java.time.Duration;
import java.util.function.IntConsumer;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Message;
import tern.client.Tern;

/**
 * Tern through its own Java client's public API only ({@code Tern.connect}, {@code publish},
 * {@code subscribe} with a push handler, {@code request}, {@code flush}), default options.
 */
final class TernTarget implements Target {
    private final TernServer server;

    TernTarget(TernServer server) {
        this.server = server;
    }

    @Override
    public String name() {
        return "tern";
    }

    @Override
    public Endpoint connect(String label) {
        ConnectOptions o = ConnectOptions.builder().host(server.host()).port(server.port()).name(label).build();
        return new TernEndpoint(Tern.connect(o));
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public String clientSettings() {
        ConnectOptions d = ConnectOptions.builder().build();
        return "tern-client defaults (writeBufferBytes " + d.writeBufferBytes() + ", readBufferBytes "
                + d.readBufferBytes() + "); push handlers; broker: " + server.launch();
    }

    private static final class TernEndpoint implements Endpoint {
        private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);
        private final Connection c;

        TernEndpoint(Connection c) {
            this.c = c;
        }

        @Override
        public void publish(String subject, byte[] payload) {
            c.publish(subject, payload);
        }

        @Override
        public void subscribe(String subject, IntConsumer onMessage) {
            c.subscribe(subject, m -> onMessage.accept(m.payload().length));
            c.flush(SETUP_TIMEOUT);
        }

        @Override
        public void serveEcho(String subject) {
            c.subscribe(subject, m -> c.publish(m.replyTo(), m.payload()));
            c.flush(SETUP_TIMEOUT);
        }

        @Override
        public byte[] request(String subject, byte[] payload, Duration timeout) {
            Message reply = c.request(subject, payload, timeout);
            return reply.payload();
        }

        @Override
        public void flush(Duration timeout) {
            c.flush(timeout);
        }

        @Override
        public void close() {
            c.close();
        }
    }
}
