package tern.client;

/** What a send does when its queue is at its max length (messages or bytes of ready messages). */
public enum Overflow {
    /** Refuse the new message: the send fails with ServerException(QUEUE_FULL). */
    REJECT,
    /** Accept it and drop the oldest ready messages until it fits. */
    DROP_HEAD
}
