package tern.client;

import java.time.Duration;
import java.util.Map;

/** A {@link Delivery} received by a {@link TernQueueConsumer}; settling writes to the connection without waiting. */
final class TernDelivery implements Delivery {
    private static final String[] REASONS = {null, "EXPIRED", "REJECTED", "MAX_DELIVERIES"};

    private final TernQueueConsumer consumer;
    private final long token;
    private final long offset;
    private final int deliveryCount;
    private final String deadLetterOrigin;
    private final int deadLetterReason;
    private final String subject;
    private final Map<String, String> headers;
    private final byte[] payload;

    TernDelivery(TernQueueConsumer consumer, long token, long offset, int deliveryCount, String deadLetterOrigin,
                 int deadLetterReason, String subject, Map<String, String> headers, byte[] payload) {
        this.consumer = consumer;
        this.token = token;
        this.offset = offset;
        this.deliveryCount = deliveryCount;
        this.deadLetterOrigin = deadLetterOrigin;
        this.deadLetterReason = deadLetterReason;
        this.subject = subject;
        this.headers = headers;
        this.payload = payload;
    }

    @Override
    public String queue() {
        return consumer.queue();
    }

    @Override
    public String subject() {
        return subject;
    }

    @Override
    public Map<String, String> headers() {
        return headers;
    }

    @Override
    public byte[] payload() {
        return payload;
    }

    @Override
    public long offset() {
        return offset;
    }

    @Override
    public long token() {
        return token;
    }

    @Override
    public int deliveryCount() {
        return deliveryCount;
    }

    @Override
    public boolean redelivered() {
        return deliveryCount > 1;
    }

    @Override
    public String deadLetterOrigin() {
        return deadLetterOrigin;
    }

    @Override
    public String deadLetterReason() {
        if (deadLetterOrigin == null) {
            return null;
        }
        return deadLetterReason > 0 && deadLetterReason < REASONS.length ? REASONS[deadLetterReason]
                : "UNKNOWN(" + deadLetterReason + ")";
    }

    @Override
    public void ack() {
        consumer.queues.ack(consumer, token);
    }

    @Override
    public void nack(Duration requeueDelay) {
        consumer.queues.nack(consumer, token, requeueDelay);
    }

    @Override
    public void reject() {
        consumer.queues.reject(consumer, token);
    }

    @Override
    public String toString() {
        return "Delivery[" + queue() + " token=" + token + " offset=" + offset + " count=" + deliveryCount
                + (deadLetterOrigin != null ? " dead letter of " + deadLetterOrigin + " " + deadLetterReason() : "")
                + " " + payload.length + "B]";
    }
}
