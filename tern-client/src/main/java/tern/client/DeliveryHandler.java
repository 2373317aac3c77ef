package tern.client;

/** Receives queue deliveries on the connection's dispatch thread, in order. A thrown exception goes to the listener. */
@FunctionalInterface
public interface DeliveryHandler {
    void onDelivery(Delivery d) throws Exception;
}
