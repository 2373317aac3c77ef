package tern.peers;

import java.time.Duration;

/**
 * A broker configuration under test for W4 (durable 1 KiB messages, publisher confirms, consumer
 * acks). Each implementation uses its client's own confirm and ack mechanisms.
 */
interface DurableTarget {
    /** Name in tables: rabbitmq-classic, rabbitmq-quorum, jetstream, tern. */
    String name();

    /** Whether the broker fsyncs a message before confirming it in this configuration, and how. */
    String fsyncBeforeConfirm();

    /** Queue/stream and client settings, for the report. */
    String settings();

    /** The broker process, or null when not started by the harness. */
    ChildProcess broker();

    /**
     * One run: a producer with at most maxInFlight unconfirmed messages, paced by pacer (see {@link Pacer}: its
     * latency origin is the same for every target), and one consumer acking each message, on a fresh
     * queue/stream; returns when all are consumed or the timeout passes. Every confirm is recorded in latency,
     * which is started together with the pacer.
     */
    DurableResult run(int messages, int payloadBytes, int maxInFlight, Pacer pacer, ConfirmLatency latency,
                      Duration timeout) throws Exception;
}
