package tern.broker.security;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import tern.auth.PermissionChecker;
import tern.auth.QueueOperation;
import tern.auth.User;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;
import tern.protocol.Subjects;

/**
 * What one connection's user may do (docs/security.md, "Permissions"). Every check either returns or
 * throws {@link ProtocolException} with {@link ErrorCode#PERMISSION_DENIED} naming the operation, the
 * subject or queue and the user; the session answers it with ERROR 302 and keeps the connection open.
 * {@link #open()} (no users file) allows everything.
 *
 * <p>Publish is the hot path: {@link #checkPublish} reads the subject in place from the frame and asks
 * the connection's {@link PermissionChecker}, whose decision cache answers a repeated subject without
 * allocating. One instance per connection, used on its event loop only (the checker is not
 * thread-safe); {@link #open()} is stateless and shared.
 *
 * <p>Admin operations ({@link #checkAdmin}) need the user's admin right ({@code roles=admin}): listing
 * every queue, purging a queue and redriving its dead letters (docs/security.md, section 5).
 */
public final class Access {
    private static final Access OPEN = new Access(null, null);

    private final String user;
    private final PermissionChecker checker;
    // The last SEND's queue name and decision: a producer usually sends to one queue many times.
    private byte[] lastSendQueue;
    private boolean lastSendAllowed;

    private Access(String user, PermissionChecker checker) {
        this.user = user;
        this.checker = checker;
    }

    /** Everything allowed: the broker has no users file. */
    public static Access open() {
        return OPEN;
    }

    /** The rights of an authenticated user, with a fresh decision cache. */
    public static Access of(User user) {
        return new Access(user.name(), user.permissions().checker());
    }

    /** True when everything is allowed. */
    public boolean isOpen() {
        return checker == null;
    }

    /** The user's name, or null when open. */
    public String user() {
        return user;
    }

    /** May the user publish to the subject at buf[offset, offset + length)? Allocation-free on a cache hit. */
    public boolean mayPublish(ByteBuf buf, int offset, int length) {
        if (checker == null) {
            return true;
        }
        // internalNioBuffer reuses the buffer's cached NIO view: no allocation per publish.
        ByteBuffer nio = buf.nioBufferCount() == 1 ? buf.internalNioBuffer(offset, length) : buf.nioBuffer(offset, length);
        return checker.mayPublish(nio, nio.position(), length);
    }

    /** Throws PERMISSION_DENIED unless the user may publish to the subject at buf[offset, offset + length). */
    public void checkPublish(ByteBuf buf, int offset, int length) {
        if (!mayPublish(buf, offset, length)) {
            throw denied("publish to '" + buf.toString(offset, length, StandardCharsets.UTF_8) + "'");
        }
    }

    /** Throws PERMISSION_DENIED unless the user may subscribe to the pattern (every subject it can match). */
    public void checkSubscribe(String pattern) {
        if (checker != null && !checker.maySubscribe(pattern)) {
            throw denied("subscribe to '" + pattern + "'");
        }
    }

    /** Throws PERMISSION_DENIED unless the user may perform operation on the queue. */
    public void checkQueue(QueueOperation operation, String queue) {
        if (checker != null && !checker.mayQueue(operation, queue)) {
            throw denied(operation.key() + " on queue '" + queue + "'");
        }
    }

    /** Throws PERMISSION_DENIED unless the user has the admin right; operation names it in the error. */
    public void checkAdmin(String operation) {
        if (checker != null && !checker.permissions().isAdmin()) {
            throw denied(operation + " (admin only)");
        }
    }

    /**
     * The check for one client queue frame (docs/protocol.md 16), before the queue session handles it:
     *
     * <ul>
     *   <li>QDECLARE: queue-declare on the name; each binding pattern needs subscribe (a binding copies
     *       matching PUBs into the queue, so it reads them); a dead-letter queue needs queue-send.</li>
     *   <li>QBIND, binding or unbinding: what a QDECLARE carrying that binding needs, queue-declare on the queue
     *       and subscribe on the pattern.</li>
     *   <li>QDELETE: queue-delete. SEND: queue-send (name read in place, last decision cached).
     *       CONSUME: queue-consume.</li>
     *   <li>QPURGE, QREDRIVE, and QLIST of every queue: admin. QLIST of one queue: any queue right on it.</li>
     *   <li>ACK, NACK, REJECT, CANCEL: none (they act on this connection's own consumers).</li>
     * </ul>
     *
     * A malformed frame passes here and is refused by the queue session's own decoding.
     */
    public void checkQueueFrame(FrameType type, ByteBuf buf, int index, int frameBytes, Limits limits) {
        if (checker == null) {
            return;
        }
        switch (type) {
            case SEND -> checkSend(buf, index, frameBytes);
            case QDECLARE -> {
                Frame.QDeclare d = (Frame.QDeclare) decode(buf, index, frameBytes, limits);
                checkQueue(QueueOperation.DECLARE, d.name());
                for (String binding : d.spec().bindings()) {
                    checkBindingSubscribe("bind queue '" + d.name() + "' to '" + binding + "'", binding, limits);
                }
                String dlq = d.spec().deadLetterQueue();
                if (dlq != null && !dlq.isEmpty()) {
                    checkQueue(QueueOperation.SEND, dlq);
                }
            }
            case QBIND -> {
                Frame.QBind b = (Frame.QBind) decode(buf, index, frameBytes, limits);
                String what = (b.unbind() ? "unbind queue '" : "bind queue '") + b.queue() + "' "
                        + (b.unbind() ? "from" : "to") + " '" + b.pattern() + "'";
                if (!checker.mayQueue(QueueOperation.DECLARE, b.queue())) {
                    throw denied(what + " (needs " + QueueOperation.DECLARE.key() + " on the queue)");
                }
                checkBindingSubscribe(what, b.pattern(), limits);
            }
            case QDELETE -> checkQueue(QueueOperation.DELETE, ((Frame.QDelete) decode(buf, index, frameBytes, limits)).name());
            case CONSUME -> checkQueue(QueueOperation.CONSUME, ((Frame.Consume) decode(buf, index, frameBytes, limits)).queue());
            case QPURGE -> checkAdmin("queue purge '" + ((Frame.QPurge) decode(buf, index, frameBytes, limits)).name() + "'");
            case QREDRIVE -> checkAdmin("queue redrive '"
                    + ((Frame.QRedrive) decode(buf, index, frameBytes, limits)).deadLetterQueue() + "'");
            case QLIST -> {
                String name = ((Frame.QList) decode(buf, index, frameBytes, limits)).name();
                if (name.isEmpty()) {
                    checkAdmin("queue ls (every queue)");
                } else if (!anyQueueRight(name)) {
                    throw denied("see queue '" + name + "' (needs a queue right on it)");
                }
            }
            default -> {
            }
        }
    }

    /**
     * A binding reads what is published on its pattern: it needs subscribe. The pattern is checked against the
     * subject rules first (BAD_SUBJECT, as for SUB), since the permission model only judges valid patterns.
     */
    private void checkBindingSubscribe(String what, String pattern, Limits limits) {
        try {
            Subjects.checkPattern(pattern, limits.maxSubjectBytes(), limits.maxSubjectTokens());
        } catch (ProtocolException e) {
            throw new ProtocolException(ErrorCode.BAD_SUBJECT, what + ": " + e.getMessage());
        }
        if (!checker.maySubscribe(pattern)) {
            throw denied(what + " (binding needs subscribe)");
        }
    }

    private boolean anyQueueRight(String name) {
        for (QueueOperation op : QueueOperation.values()) {
            if (checker.mayQueue(op, name)) {
                return true;
            }
        }
        return false;
    }

    private void checkSend(ByteBuf buf, int index, int frameBytes) {
        int p = index + Frame.BODY_OFFSET;
        if (p + 2 > index + frameBytes) {
            return;
        }
        int length = buf.getUnsignedShort(p);
        if (p + 2 + length > index + frameBytes) {
            return;
        }
        byte[] last = lastSendQueue;
        if (last != null && last.length == length && sameBytes(buf, p + 2, last)) {
            if (!lastSendAllowed) {
                throw denied(QueueOperation.SEND.key() + " on queue '" + new String(last, StandardCharsets.UTF_8) + "'");
            }
            return;
        }
        byte[] name = new byte[length];
        buf.getBytes(p + 2, name);
        String queue = new String(name, StandardCharsets.UTF_8);
        lastSendQueue = name;
        lastSendAllowed = checker.mayQueue(QueueOperation.SEND, queue);
        if (!lastSendAllowed) {
            throw denied(QueueOperation.SEND.key() + " on queue '" + queue + "'");
        }
    }

    private static boolean sameBytes(ByteBuf buf, int offset, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (buf.getByte(offset + i) != bytes[i]) {
                return false;
            }
        }
        return true;
    }

    private static Frame decode(ByteBuf buf, int index, int frameBytes, Limits limits) {
        return Frames.decode(buf.nioBuffer(index, frameBytes), limits);
    }

    private ProtocolException denied(String what) {
        return new ProtocolException(ErrorCode.PERMISSION_DENIED, "permission denied: user '" + user + "' may not "
                + what);
    }

    @Override
    public String toString() {
        return checker == null ? "Access[open]" : "Access[user " + user + "]";
    }
}
