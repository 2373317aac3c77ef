package tern.broker.security;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import tern.auth.PermissionChecker;
import tern.auth.QueueOperation;
import tern.auth.User;
import tern.protocol.ErrorCode;
import tern.protocol.ProtocolException;

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

    private ProtocolException denied(String what) {
        return new ProtocolException(ErrorCode.PERMISSION_DENIED, "permission denied: user '" + user + "' may not "
                + what);
    }

    @Override
    public String toString() {
        return checker == null ? "Access[open]" : "Access[user " + user + "]";
    }
}
