package tern.client;

/**
 * Handles messages of a push subscription, on the connection's dispatch thread. An exception thrown
 * here is reported to {@link ConnectionListener#onError} and delivery continues.
 */
@FunctionalInterface
public interface MessageHandler {
    void onMessage(Message message) throws Exception;
}
