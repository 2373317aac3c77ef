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
    /** Null once settled, so a settled message pinned behind an older live one holds no payload. */
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

    QueuedMessage(long offset, long publishedAtMillis, String subject, byte[] headers, byte[] payload,
                  DeadLetter deadLetter, int deliveryCount) {
        this.offset = offset;
        this.publishedAtMillis = publishedAtMillis;
        this.subject = subject;
        this.headers = headers;
        this.payload = payload;
        this.deadLetter = deadLetter;
        this.bytes = headers.length + payload.length;
        this.deliveryCount = deliveryCount;
    }
}
