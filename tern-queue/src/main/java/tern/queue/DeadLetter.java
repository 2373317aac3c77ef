package tern.queue;

/**
 * Where a dead message came from; carried by every message in a dead-letter queue and kept on disk.
 *
 * @param originQueue   the queue it died in
 * @param reason        why it died
 * @param deliveryCount how many times it had been delivered in the origin queue
 */
public record DeadLetter(String originQueue, DeadLetterReason reason, int deliveryCount) {
}
