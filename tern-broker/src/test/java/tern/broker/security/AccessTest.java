package tern.broker.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tern.auth.QueueOperation;
import tern.auth.Role;
import tern.auth.Rules;
import tern.auth.User;
import tern.protocol.ErrorCode;
import tern.protocol.Frame;
import tern.protocol.FrameType;
import tern.protocol.Frames;
import tern.protocol.Limits;
import tern.protocol.ProtocolException;

@Timeout(30)
class AccessTest {
    private static Access of(Set<Role> roles) {
        return Access.of(User.named("u").withRoles(roles));
    }

    @Test
    void openAllowsEverything() {
        Access open = Access.open();
        assertThat(open.isOpen()).isTrue();
        open.checkSubscribe(">");
        open.checkQueue(QueueOperation.DELETE, "q");
        open.checkAdmin("queue ls");
        assertThat(publish(open, "any.thing")).isTrue();
    }

    @Test
    void deniedPublishNamesTheSubjectAndTheUser() {
        Access consumer = of(Set.of(Role.CONSUMER));
        assertThat(publish(consumer, "_INBOX.abc.1")).isTrue();
        ByteBuf buf = frameWith("xx", "orders.eu");
        try {
            assertThatThrownBy(() -> consumer.checkPublish(buf, 2, 9))
                    .isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED))
                    .hasMessage("permission denied: user 'u' may not publish to 'orders.eu'");
        } finally {
            buf.release();
        }
    }

    @Test
    void subscribeQueueAndAdminChecks() {
        Access producer = of(Set.of(Role.PRODUCER));
        producer.checkSubscribe("_INBOX.mine.*");
        assertThatThrownBy(() -> producer.checkSubscribe("_INBOX.>")).hasMessageContaining("subscribe to '_INBOX.>'");
        assertThatThrownBy(() -> producer.checkSubscribe("orders.*")).hasMessageContaining("'orders.*'");
        producer.checkQueue(QueueOperation.SEND, "jobs");
        assertThatThrownBy(() -> producer.checkQueue(QueueOperation.CONSUME, "jobs"))
                .hasMessage("permission denied: user 'u' may not queue-consume on queue 'jobs'");
        assertThatThrownBy(() -> producer.checkAdmin("queue purge 'jobs'")).hasMessageContaining("admin only");
        of(Set.of(Role.ADMIN)).checkAdmin("queue purge 'jobs'");
        Access denyList = Access.of(User.named("d").withRoles(Set.of(Role.ADMIN)).withPublish(Rules.parse("-secret.>")));
        assertThat(publish(denyList, "secret.x")).isFalse();
        assertThat(publish(denyList, "public.x")).isTrue();
    }

    @Test
    void queueFramesNeedTheQueueRightsAndSendDecisionsAreCachedPerName() {
        Access consumer = of(Set.of(Role.CONSUMER));
        Access producer = of(Set.of(Role.PRODUCER));
        for (int round = 0; round < 2; round++) {
            ByteBuf jobs = encode(new Frame.Send(7, true, "jobs", java.util.Map.of(), new byte[] {1}));
            ByteBuf other = encode(new Frame.Send(8, true, "other", java.util.Map.of(), new byte[] {1}));
            try {
                producer.checkQueueFrame(FrameType.SEND, jobs, 0, jobs.readableBytes(), Limits.DEFAULT);
                producer.checkQueueFrame(FrameType.SEND, other, 0, other.readableBytes(), Limits.DEFAULT);
                assertThatThrownBy(() -> consumer.checkQueueFrame(FrameType.SEND, jobs, 0, jobs.readableBytes(),
                        Limits.DEFAULT)).hasMessageContaining("queue-send on queue 'jobs'");
                assertThatThrownBy(() -> consumer.checkQueueFrame(FrameType.SEND, other, 0, other.readableBytes(),
                        Limits.DEFAULT)).hasMessageContaining("queue 'other'");
            } finally {
                jobs.release();
                other.release();
            }
        }
        ByteBuf list = encode(new Frame.QList(3, ""));
        try {
            assertThatThrownBy(() -> producer.checkQueueFrame(FrameType.QLIST, list, 0, list.readableBytes(),
                    Limits.DEFAULT)).hasMessageContaining("admin only");
            of(Set.of(Role.ADMIN)).checkQueueFrame(FrameType.QLIST, list, 0, list.readableBytes(), Limits.DEFAULT);
        } finally {
            list.release();
        }
    }

    /** QBIND either way needs what a QDECLARE carrying the binding needs: queue-declare and subscribe. */
    @Test
    void bindingAndUnbindingNeedQueueDeclareAndSubscribe() {
        Access producer = of(Set.of(Role.PRODUCER)); // queue-declare on >, subscribe only on its inboxes
        Access consumer = of(Set.of(Role.CONSUMER)); // subscribe on >, no queue-declare
        Access tap = Access.of(User.named("t").withRoles(Set.of(Role.PRODUCER)).withSubscribe(Rules.parse("orders.*")));
        Access admin = of(Set.of(Role.ADMIN));
        for (boolean unbind : new boolean[] {false, true}) {
            String verb = unbind ? "unbind queue 'jobs' from 'orders.*'" : "bind queue 'jobs' to 'orders.*'";
            assertThatThrownBy(() -> checkBind(producer, unbind, "jobs", "orders.*"))
                    .isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED))
                    .hasMessage("permission denied: user 'u' may not " + verb + " (binding needs subscribe)");
            assertThatThrownBy(() -> checkBind(consumer, unbind, "jobs", "orders.*"))
                    .hasMessageContaining(verb + " (needs queue-declare on the queue)");
            checkBind(tap, unbind, "jobs", "orders.*");
            assertThatThrownBy(() -> checkBind(tap, unbind, "jobs", "orders.>")).hasMessageContaining("'orders.>'");
            checkBind(admin, unbind, "jobs", ">");
            checkBind(Access.open(), unbind, "jobs", "not..checked.here");
            // an invalid pattern is BAD_SUBJECT (connection stays open), never an internal error
            assertThatThrownBy(() -> checkBind(tap, unbind, "jobs", "orders..x"))
                    .isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_SUBJECT));
        }
        ByteBuf declare = encode(new Frame.QDeclare(4, "jobs", new tern.protocol.QueueSpec(false, false, false, 0, 0,
                0, 0, 0, 0, 0, "", java.util.List.of("a.>.b"))));
        try {
            assertThatThrownBy(() -> tap.checkQueueFrame(FrameType.QDECLARE, declare, 0, declare.readableBytes(),
                    Limits.DEFAULT)).isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_SUBJECT));
        } finally {
            declare.release();
        }
    }

    private static void checkBind(Access access, boolean unbind, String queue, String pattern) {
        ByteBuf buf = encode(new Frame.QBind(9, unbind, queue, pattern));
        try {
            access.checkQueueFrame(FrameType.QBIND, buf, 0, buf.readableBytes(), Limits.DEFAULT);
        } finally {
            buf.release();
        }
    }

    private static ByteBuf encode(Frame frame) {
        java.nio.ByteBuffer b = Frames.encode(frame);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(b.remaining());
        buf.writeBytes(b);
        return buf;
    }

    /** The hot path: a repeated subject is answered from the checker's cache without allocating. */
    @Test
    void cachedPublishChecksDoNotAllocate() {
        Access producer = Access.of(User.named("p").withRoles(Set.of(Role.PRODUCER)).withPublish(Rules.parse("-x.>")));
        // Paranoid leak detection (surefire) wraps buffers in a tracker that records every access;
        // production buffers are not wrapped that way, so measure one allocated without it.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        ByteBuf buf;
        try {
            buf = frameWith("header--", "orders.eu.created");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        try {
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().getId();
            int offset = 8;
            int length = "orders.eu.created".length();
            for (int i = 0; i < 20_000; i++) {
                producer.checkPublish(buf, offset, length); // warm: first call fills the cache and NIO view
            }
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 100_000; i++) {
                producer.checkPublish(buf, offset, length);
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            // 100,000 checks: anything per check would be >= 1.6 MB; allow the probe's own few bytes.
            assertThat(allocated).isLessThan(16 * 1024);
        } finally {
            buf.release();
        }
    }

    private static boolean publish(Access access, String subject) {
        ByteBuf buf = frameWith("", subject);
        try {
            return access.mayPublish(buf, 0, buf.readableBytes());
        } finally {
            buf.release();
        }
    }

    private static ByteBuf frameWith(String prefix, String subject) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(256);
        buf.writeCharSequence(prefix, StandardCharsets.US_ASCII);
        buf.writeCharSequence(subject, StandardCharsets.UTF_8);
        return buf;
    }
}
