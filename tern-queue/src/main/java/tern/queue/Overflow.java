package tern.queue;

/** What a publish does when the queue is at its max length (messages or bytes of ready messages). */
public enum Overflow {
    /** Refuse the new message with {@link tern.protocol.ErrorCode#QUEUE_FULL}. */
    REJECT_PUBLISH,
    /** Accept the new message and drop the oldest ready message(s) until it fits. */
    DROP_HEAD
}
