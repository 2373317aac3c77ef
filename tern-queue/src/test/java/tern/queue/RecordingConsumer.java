package tern.queue;

import java.util.ArrayList;
import java.util.List;

/** Collects deliveries; {@link #accept} false makes it refuse (and be paused). */
final class RecordingConsumer implements Consumer {
    final List<Delivery> deliveries = new ArrayList<>();
    volatile boolean accept = true;
    QueueException cancelled;

    @Override
    public synchronized boolean deliver(Delivery d) {
        if (!accept) {
            return false;
        }
        deliveries.add(d);
        return true;
    }

    @Override
    public synchronized void cancelled(QueueException reason) {
        cancelled = reason;
    }

    synchronized Delivery last() {
        return deliveries.get(deliveries.size() - 1);
    }

    synchronized List<String> payloads() {
        return deliveries.stream().map(d -> new String(d.payload(), java.nio.charset.StandardCharsets.UTF_8)).toList();
    }

    synchronized int count() {
        return deliveries.size();
    }

    synchronized void clear() {
        deliveries.clear();
    }
}
