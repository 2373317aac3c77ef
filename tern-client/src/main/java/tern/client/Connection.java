package tern.client;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A connection to a Tern server. Thread-safe: every method may be called from any thread, including
 * from a {@link MessageHandler}.
 *
 * <p>Threads: a reader thread parses inbound frames (and reconnects); a writer thread writes the
 * coalesced write buffer (a publishing thread writes itself when the writer is idle or the buffer is
 * full); a dispatch thread runs push handlers, {@link #requestAsync} completions and listener calls in
 * arrival order. When the dispatch queue or a pull subscription's queue is full the reader waits, so
 * TCP backpressure reaches the server and the subscription's slow-consumer policy applies there.
 *
 * <p>Publishing is asynchronous: {@link #publish} copies the frame into a bounded write buffer and
 * returns; it blocks while the buffer is full. While disconnected, publishes are buffered (up to the
 * write buffer's bound) and sent after reconnecting; past the bound publish throws
 * {@link ConnectionClosedException}. Invalid subjects, headers or oversize messages throw
 * {@link IllegalArgumentException} before any byte is sent.
 *
 * <p>Handlers share one dispatch thread: a handler must not wait for something only a later
 * delivery on the same connection provides (e.g. {@code requestAsync(..).join()} inside a handler
 * waits for its own dispatch thread; use {@link #request} there). A handler that publishes a lot
 * while its connection also receives faster than it handles can fill both directions; give heavy
 * responders their own connection.
 */
public interface Connection extends AutoCloseable {
    /** Publishes payload to subject. */
    void publish(String subject, byte[] payload);

    /** Publishes with an optional reply subject (null for none) and headers (null or empty for none). */
    void publish(String subject, String replyTo, Map<String, String> headers, byte[] payload);

    /** A pull subscription: read it with {@link Subscription#next(Duration)}. */
    Subscription subscribe(String subject);

    /** A pull subscription in a queue group (null for none). */
    Subscription subscribe(String subject, String queueGroup);

    /** A push subscription: handler runs on the connection's dispatch thread. */
    Subscription subscribe(String subject, MessageHandler handler);

    /** A push subscription in a queue group (null for none). */
    Subscription subscribe(String subject, String queueGroup, MessageHandler handler);

    /**
     * Subscribes with full options; handler null makes a pull subscription. When connected this waits
     * (up to connectTimeout) for the server's OK, so the subscription is live when it returns; a server
     * ERROR is thrown as {@link ServerException}. While disconnected it returns at once and the
     * subscription is created on reconnect.
     */
    Subscription subscribe(SubscribeOptions options, MessageHandler handler);

    /**
     * Sends a request and completes with the first reply, or exceptionally with
     * {@link NoRespondersException}, {@link RequestTimeoutException} or {@link ConnectionClosedException}.
     * Completion happens on the dispatch thread.
     */
    CompletableFuture<Message> requestAsync(String subject, byte[] payload, Duration timeout);

    /** Sends a request and waits for the first reply. */
    Message request(String subject, byte[] payload, Duration timeout);

    /** Round trip (PING/PONG): when it returns the server has processed everything sent before. */
    void flush(Duration timeout);

    /** {@link #flush(Duration)} bounded by the connect timeout. */
    void flush();

    /**
     * Unsubscribes everything, delivers what already arrived, waits for outstanding requests, flushes
     * publishes, then closes. Throws {@link RequestTimeoutException} (after closing) when that took
     * longer than timeout. Called from a handler, it does not wait for messages queued behind it.
     */
    void drain(Duration timeout);

    /** Writes what is buffered (bounded wait), closes the socket and stops all threads. Idempotent. */
    @Override
    void close();

    ConnectionStatus status();

    /** What the server sent in its latest WELCOME. */
    ServerInfo serverInfo();
}
