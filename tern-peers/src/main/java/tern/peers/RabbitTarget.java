package tern.peers;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.RpcClient;
import com.rabbitmq.client.RpcClientParams;
import java.io.IOException;
import java.time.Duration;
import java.util.function.IntConsumer;

/**
 * RabbitMQ through amqp-client with defaults. Pub/sub: publish transient messages to the amq.topic
 * exchange with the subject as routing key, no confirms; each subscriber has a server-named exclusive
 * queue bound to it and consumes with autoAck. Request/reply: the responder consumes a queue named after
 * the subject; the requester is the client's own {@link RpcClient} on direct reply-to
 * (amq.rabbitmq.reply-to).
 */
final class RabbitTarget implements Target {
    static final String TOPIC_EXCHANGE = "amq.topic";
    private final RabbitServer server;

    RabbitTarget(RabbitServer server) {
        this.server = server;
    }

    @Override
    public String name() {
        return "rabbitmq";
    }

    @Override
    public Endpoint connect(String label) throws Exception {
        return new RabbitEndpoint(server.factory().newConnection(label));
    }

    @Override
    public ChildProcess broker() {
        return server.process();
    }

    @Override
    public String clientSettings() {
        return "amqp-client " + com.rabbitmq.client.impl.ClientVersion.VERSION + " defaults (blocking IO); pub/sub via "
                + TOPIC_EXCHANGE + " to exclusive autoAck queues, transient messages, no confirms;"
                + " request/reply via RpcClient on direct reply-to";
    }

    private static final class RabbitEndpoint implements Endpoint {
        private final Connection conn;
        private final Channel ch;
        private RpcClient rpc;
        private String rpcSubject;

        RabbitEndpoint(Connection conn) throws IOException {
            this.conn = conn;
            this.ch = conn.createChannel();
        }

        @Override
        public void publish(String subject, byte[] payload) throws IOException {
            ch.basicPublish(TOPIC_EXCHANGE, subject, null, payload);
        }

        @Override
        public void subscribe(String subject, IntConsumer onMessage) throws IOException {
            String queue = ch.queueDeclare().getQueue();
            ch.queueBind(queue, TOPIC_EXCHANGE, subject);
            ch.basicConsume(queue, true, new DefaultConsumer(ch) {
                @Override
                public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                    onMessage.accept(body.length);
                }
            });
        }

        @Override
        public void serveEcho(String subject) throws IOException {
            ch.queueDeclare(subject, false, true, true, null);
            ch.basicConsume(subject, true, new DefaultConsumer(ch) {
                @Override
                public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
                        throws IOException {
                    AMQP.BasicProperties reply = new AMQP.BasicProperties.Builder()
                            .correlationId(props.getCorrelationId()).build();
                    getChannel().basicPublish("", props.getReplyTo(), reply, body);
                }
            });
        }

        @Override
        public byte[] request(String subject, byte[] payload, Duration timeout) throws Exception {
            if (rpc == null || !subject.equals(rpcSubject)) {
                rpc = new RpcClient(new RpcClientParams().channel(ch).exchange("").routingKey(subject)
                        .timeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis())));
                rpcSubject = subject;
            }
            return rpc.primitiveCall(payload);
        }

        @Override
        public void flush(Duration timeout) throws IOException {
            // AMQP has no ping; a synchronous method on the channel is answered after everything sent before it
            ch.exchangeDeclarePassive(TOPIC_EXCHANGE);
        }

        @Override
        public void close() throws IOException {
            conn.close();
        }
    }
}
