package tern.queue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A publish outcome as a future: the receipt, or the QueueException. */
final class Receipt implements PublishCallback {
    /** Offset and fsynced of a confirmed publish. */
    record Confirmed(long offset, boolean fsynced) {
    }

    final CompletableFuture<Confirmed> future = new CompletableFuture<>();

    @Override
    public void confirmed(long offset, boolean fsynced) {
        if (!future.complete(new Confirmed(offset, fsynced))) {
            throw new AssertionError("callback called twice");
        }
    }

    @Override
    public void failed(QueueException error) {
        if (!future.completeExceptionally(error)) {
            throw new AssertionError("callback called twice");
        }
    }

    Confirmed await() throws Exception {
        try {
            return future.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** The failure, or an AssertionError if it was confirmed. */
    QueueException awaitFailure() throws InterruptedException, TimeoutException {
        try {
            Confirmed c = future.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + c);
        } catch (ExecutionException e) {
            return (QueueException) e.getCause();
        }
    }
}
