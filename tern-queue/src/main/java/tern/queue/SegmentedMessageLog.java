package tern.queue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import tern.storage.DurabilityCallback;
import tern.storage.LogConfig;
import tern.storage.LogRecord;
import tern.storage.SegmentedLog;

/** {@link MessageLog} on tern-storage's {@link SegmentedLog}; appends happen under the queue's lock (one writer). */
final class SegmentedMessageLog implements MessageLog {
    private final SegmentedLog log;

    SegmentedMessageLog(Path dir, LogConfig config) {
        this.log = SegmentedLog.open(dir, config);
    }

    @Override
    public long appendBatch(ByteBuffer[] payloads, int count, long timestampMillis) {
        return log.appendBatch(payloads, 0, count, timestampMillis);
    }

    @Override
    public void whenDurable(long offset, DurabilityCallback callback) {
        log.whenDurable(offset, callback);
    }

    @Override
    public LogRecord read(long offset) {
        return log.read(offset);
    }

    @Override
    public long startOffset() {
        return log.startOffset();
    }

    @Override
    public long endOffset() {
        return log.endOffset();
    }

    @Override
    public void deleteSegmentsBefore(long offset) {
        log.deleteSegmentsBefore(offset);
    }

    @Override
    public boolean isFailed() {
        return log.isFailed();
    }

    @Override
    public void close() {
        log.close();
    }
}
