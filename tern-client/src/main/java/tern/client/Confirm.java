package tern.client;

/**
 * The durability receipt of a queue send.
 *
 * @param queue   the queue the message went to
 * @param offset  its position in the queue's log
 * @param fsynced true when an fsync covering it completed before the confirm (durable queues with the default
 *                durability); false for transient queues and queues with an fsync interval
 */
public record Confirm(String queue, long offset, boolean fsynced) {
}
