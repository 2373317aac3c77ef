package tern.client;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** A channel that keeps every byte written and counts write calls; optionally writes at most maxPerWrite. */
final class RecordingChannel implements WritableByteChannel {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final int maxPerWrite;
    private int writes;
    private boolean open = true;

    RecordingChannel(int maxPerWrite) {
        this.maxPerWrite = maxPerWrite;
    }

    @Override
    public synchronized int write(ByteBuffer src) {
        int n = Math.min(src.remaining(), maxPerWrite);
        byte[] chunk = new byte[n];
        src.get(chunk);
        bytes.write(chunk, 0, n);
        writes++;
        return n;
    }

    synchronized byte[] bytes() {
        return bytes.toByteArray();
    }

    synchronized int writes() {
        return writes;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }
}
