package tern.peers;

/** A broker under test for W1..W3: how to open client connections to it, and its process for RSS. */
interface Target {
    /** Short name used in tables and RESULT lines: tern, nats, rabbitmq. */
    String name();

    /** Opens one client connection; label names it in the broker's logs. */
    Endpoint connect(String label) throws Exception;

    /** The broker process, or null when the harness connects to a broker it did not start. */
    ChildProcess broker();

    /** Client settings that differ from the client library's defaults, for the report. */
    String clientSettings();
}
