package tern.peers;

import java.time.Duration;
import java.util.function.IntConsumer;

/**
 * One client connection of one target's own client library, as workloads W1..W3 drive it. Each
 * implementation is a thin adapter over the public API of that client (jnats, amqp-client, Tern's
 * client) with nothing cached or batched beyond what the client itself does.
 */
interface Endpoint extends AutoCloseable {
    /** Fire-and-forget publish; may block while the client's own outgoing buffer is full. */
    void publish(String subject, byte[] payload) throws Exception;

    /**
     * Subscribes; onMessage gets each delivery's payload length on the client's delivery thread.
     * Returns once the broker has registered the subscription.
     */
    void subscribe(String subject, IntConsumer onMessage) throws Exception;

    /** Answers every request on subject with its own payload; returns once the broker has registered it. */
    void serveEcho(String subject) throws Exception;

    /** One blocking request; returns the reply's payload; throws on timeout. */
    byte[] request(String subject, byte[] payload, Duration timeout) throws Exception;

    /** Returns once the broker has processed everything this connection sent before. */
    void flush(Duration timeout) throws Exception;

    @Override
    void close() throws java.io.IOException;
}
