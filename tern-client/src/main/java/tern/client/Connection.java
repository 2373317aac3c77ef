package tern.client;

import java.time.Duration;
import java.util.List;
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

    // ---- durable queues (docs/protocol.md section 16) -----------------------------------------------------
    // Requests wait up to connectTimeout for the server's answer; refusals throw ServerException with a 4xx code.

    /** Creates the queue, or checks it exists with equal options (else ServerException QUEUE_OPTIONS_MISMATCH). */
    QueueInfo declareQueue(String name, QueueOptions options);

    /** Deletes the queue and its messages; its consumers (on any connection) end. */
    void deleteQueue(String name);

    /** Removes the queue's ready messages (unacknowledged ones stay); returns how many. */
    long purgeQueue(String name);

    /** Every queue, by name. */
    List<QueueInfo> listQueues();

    /** Sends a dead-letter queue's ready messages back to their origin queues (or to the target); returns how many. */
    int redrive(String deadLetterQueue, String targetQueueOrNull);

    /**
     * Binds a subject pattern (wildcards {@code *} and {@code >}) to an existing queue: every later publish matching
     * it is also sent into the queue, as with {@link QueueOptions.Builder#bind}. True when added, false when the
     * queue already had this pattern. ServerException QUEUE_NOT_FOUND, QUEUE_LIMIT (bindings per queue) or
     * PERMISSION_DENIED (needs queue-declare on the queue and subscribe on the pattern); IllegalArgumentException
     * for an invalid name or pattern.
     */
    boolean bindQueue(String queue, String subjectPattern);

    /**
     * Removes the queue's binding whose pattern is exactly subjectPattern (compared as text). True when removed,
     * false when the queue had no such binding. Errors as {@link #bindQueue}, without QUEUE_LIMIT.
     */
    boolean unbindQueue(String queue, String subjectPattern);

    /**
     * Sends a message into a queue; completes with its {@link Confirm} once durable, or exceptionally
     * (ServerException: QUEUE_FULL, QUEUE_NOT_FOUND, ...; ConnectionClosedException: the connection was lost
     * before the confirm, so the message may or may not be in the queue: resend it, at-least-once). Pipelined:
     * blocks only while {@link ConnectOptions#maxUnconfirmed()} sends await their confirm. Completes on the reader
     * thread: dependent stages must not block (use the async variants).
     */
    CompletableFuture<Confirm> send(String queue, byte[] payload);

    /** {@link #send(String, byte[])} with headers (null or empty for none). */
    CompletableFuture<Confirm> send(String queue, Map<String, String> headers, byte[] payload);

    /** Sends and waits for the confirm (RequestTimeoutException after timeout). */
    Confirm sendAndWait(String queue, byte[] payload, Duration timeout);

    /**
     * Attaches a competing consumer. handler null makes a pull consumer ({@link QueueConsumer#next}); otherwise the
     * handler runs on the dispatch thread. Waits for the server's OK when connected; while disconnected it returns
     * at once and the consumer is created on reconnect (consumers are re-created after every reconnect).
     */
    QueueConsumer consume(String queue, ConsumeOptions options, DeliveryHandler handler);

    /** What the server sent in its latest WELCOME. */
    ServerInfo serverInfo();
}
