package tern.queue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import tern.storage.SegmentedLog;

/**
 * Per-thread scratch space for {@link QueueState#publish}: the records of one log write encoded back to back
 * ({@link MessageCodec}), with a view of each for {@code SegmentedLog.appendBatch}. One per thread rather than one
 * per queue, so ten thousand idle queues hold no buffers; the log copies the bytes, so the space is free again as
 * soon as the append returns.
 */
final class RecordEncoder {
    /** Most encoded bytes appended by one log write (one message larger than this goes alone). */
    static final int CHUNK_BYTES = 1 << 20;
    private static final int INITIAL_BYTES = 64 << 10;
    private static final ThreadLocal<RecordEncoder> LOCAL = ThreadLocal.withInitial(RecordEncoder::new);

    private ByteBuffer buffer = ByteBuffer.allocate(INITIAL_BYTES);
    private ByteBuffer[] views = new ByteBuffer[64];
    private int size;
    private int bytes;
    private String lastSubject;
    private byte[] lastSubjectBytes;

    /** This thread's encoder, empty. */
    static RecordEncoder get() {
        RecordEncoder e = LOCAL.get();
        e.clear();
        return e;
    }

    /** Forgets the records; a buffer grown past two chunks by one big message is given back. */
    void clear() {
        size = 0;
        bytes = 0;
        if (buffer.capacity() > 2 * CHUNK_BYTES) {
            buffer = ByteBuffer.allocate(INITIAL_BYTES);
            Arrays.fill(views, null);
        }
    }

    /** An upper bound of the record's size ({@link #add} needs no more room than this). */
    static int maxEncodedBytes(String subject, byte[] headers, DeadLetter dead, byte[] payload) {
        // At most 3 UTF-8 bytes per char (a surrogate pair is 2 chars and 4 bytes).
        return MessageCodec.OVERHEAD_BYTES + 3 * subject.length() + headers.length
                + (dead == null ? 0 : 3 * dead.originQueue().length()) + payload.length;
    }

    /**
     * Whether a record of at most need bytes belongs in this log write: the first one always does; the others while
     * the write's frames stay within {@link #CHUNK_BYTES} and one segment ({@code SegmentedLog.appendBatch} refuses
     * a batch of two or more records larger than a segment).
     */
    boolean fits(int need, int segmentBytes) {
        long frames = (long) bytes + need + (long) (size + 1) * SegmentedLog.RECORD_OVERHEAD_BYTES;
        return size == 0 || frames <= Math.min(CHUNK_BYTES, segmentBytes);
    }

    /** Encodes one record after the previous ones. */
    void add(String subject, byte[] headers, DeadLetter dead, byte[] payload, int need) {
        if (buffer.capacity() < bytes + need) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(bytes + need, buffer.capacity() * 2));
            bigger.put(0, buffer, 0, bytes);
            buffer = bigger;
            for (int j = 0; j < size; j++) {
                views[j] = bigger.duplicate().limit(views[j].limit()).position(views[j].position());
            }
            Arrays.fill(views, size, views.length, null);
        }
        if (views.length == size) {
            views = Arrays.copyOf(views, size * 2);
        }
        byte[] origin = dead == null ? null : dead.originQueue().getBytes(StandardCharsets.UTF_8);
        int end = MessageCodec.encode(buffer, bytes, subjectBytes(subject), headers, dead, origin, payload);
        ByteBuffer v = views[size];
        if (v == null) {
            v = views[size] = buffer.duplicate();
        }
        v.limit(end).position(bytes);
        bytes = end;
        size++;
    }

    /** The records encoded, as views {@code [0, size())}. */
    ByteBuffer[] views() {
        return views;
    }

    int size() {
        return size;
    }

    private byte[] subjectBytes(String subject) {
        if (!subject.equals(lastSubject)) {
            lastSubject = subject;
            lastSubjectBytes = subject.getBytes(StandardCharsets.UTF_8);
        }
        return lastSubjectBytes;
    }
}
