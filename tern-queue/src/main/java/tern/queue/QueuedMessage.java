package tern.queue;

/** One message while it is in a queue (ready, delayed, unacked or in transfer). Guarded by the queue's lock. */
final class QueuedMessage {
    static final byte READY = 0;
    static final byte UNACKED = 1;
    static final byte DELAYED = 2;
    /** Handed to another queue (dead letter, redrive); settled here once that queue confirms. */
    static final byte TRANSFER = 3;
    static final byte SETTLED = 4;

    final long offset;
    final long publishedAtMillis;
    final String subject;
    /**
     * Null once settled, so a settled message pinned behind an older live one holds no payload; also null while a
     * durable queue keeps the message on disk only (paged out, see QueueState#publish) until it is read back.
     */
    byte[] headers;
    byte[] payload;
    final DeadLetter deadLetter;
    /** Payload + headers: what max length in bytes counts. */
    final int bytes;

    byte state = READY;
    int deliveryCount;
    long token;
    long deadlineMillis;
    long dueAtMillis;
    ConsumerState consumer;
    DeadLetterReason deathReason;
    /** Its record could not be read back for a move: a dead letter is not retried (its queue has failed). */
    boolean unreadable;

    QueuedMessage(long offset, long publishedAtMillis, String subject, byte[] headers, byte[] payload,
                  DeadLetter deadLetter, int deliveryCount) {
        this(offset, publishedAtMillis, subject, headers.length + payload.length, deadLetter, deliveryCount);
        this.headers = headers;
        this.payload = payload;
    }

    /** A message kept on disk only: headers and payload (bytes in all) are read back from the log when needed. */
    QueuedMessage(long offset, long publishedAtMillis, String subject, int bytes, DeadLetter deadLetter,
                  int deliveryCount) {
        this.offset = offset;
        this.publishedAtMillis = publishedAtMillis;
        this.subject = subject;
        this.deadLetter = deadLetter;
        this.bytes = bytes;
        this.deliveryCount = deliveryCount;
    }
}
