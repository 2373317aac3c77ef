package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class PermissionsTest {
    static Permissions perms(Set<Role> roles, String publish, String subscribe) {
        return Permissions.of(roles, Rules.parse(publish), Rules.parse(subscribe), Map.of());
    }

    @Test
    @Timeout(10)
    void defaultIsClosed() {
        Permissions none = perms(Set.of(), "", "");
        assertThat(none.mayPublish("a")).isFalse();
        assertThat(none.maySubscribe(">")).isFalse();
        assertThat(none.maySubscribe("_INBOX.abc.*")).isFalse();
        for (QueueOperation op : QueueOperation.values()) {
            assertThat(none.mayQueue(op, "q")).isFalse();
        }
        assertThat(none.isAdmin()).isFalse();
        assertThat(Permissions.NONE.mayPublish("x")).isFalse();
    }

    @Test
    @Timeout(10)
    void denyWinsOverAllowIncludingRoles() {
        Permissions p = perms(Set.of(Role.ADMIN), "-orders.secret", "-orders.secret");
        assertThat(p.mayPublish("orders.eu")).isTrue();
        assertThat(p.mayPublish("orders.secret")).isFalse();
        assertThat(p.maySubscribe("orders.eu")).isTrue();
        assertThat(p.maySubscribe("orders.secret")).isFalse();
        // A subscription that could receive a denied subject is refused as a whole.
        assertThat(p.maySubscribe("orders.*")).isFalse();
        assertThat(p.maySubscribe(">")).isFalse();
        assertThat(p.maySubscribe("orders.*.x")).isTrue();
        assertThat(p.isAdmin()).isTrue();
    }

    @Test
    @Timeout(10)
    void publishMatchesWildcardsLikeSubjects() {
        Permissions p = perms(Set.of(), "orders.*,metrics.>", "");
        assertThat(p.mayPublish("orders.eu")).isTrue();
        assertThat(p.mayPublish("orders")).isFalse();
        assertThat(p.mayPublish("orders.eu.x")).isFalse();
        assertThat(p.mayPublish("metrics")).isFalse();
        assertThat(p.mayPublish("metrics.cpu")).isTrue();
        assertThat(p.mayPublish("metrics.cpu.0")).isTrue();
        byte[] b = "xxorders.euyy".getBytes(StandardCharsets.UTF_8);
        assertThat(p.mayPublish(ByteBuffer.wrap(b), 2, 9)).isTrue();
    }

    @Test
    @Timeout(10)
    void subscribeNeedsTheAllowsToCoverThePatternTogether() {
        Permissions p = perms(Set.of(), "", "a.*,a.*.>,b.x");
        assertThat(p.maySubscribe("a.>")).isTrue();
        assertThat(p.maySubscribe("a.*")).isTrue();
        assertThat(p.maySubscribe("a.b.c.d")).isTrue();
        assertThat(p.maySubscribe("b.*")).isFalse();
        assertThat(p.maySubscribe("b.x")).isTrue();
        assertThat(p.maySubscribe(">")).isFalse();
        Permissions q = perms(Set.of(), "", "a.*");
        assertThat(q.maySubscribe("a.>")).isFalse();
        assertThatThrownBy(() -> q.maySubscribe("a..b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @Timeout(10)
    void roleExpansionsAreAsDocumented() {
        Permissions producer = perms(Set.of(Role.PRODUCER), "", "");
        assertThat(producer.mayPublish("any.thing")).isTrue();
        assertThat(producer.maySubscribe("any.thing")).isFalse();
        assertThat(producer.maySubscribe("_INBOX.r4nd0m.*")).isTrue();
        assertThat(producer.maySubscribe("_INBOX.*.*")).isFalse();
        assertThat(producer.maySubscribe("_INBOX.>")).isFalse();
        assertThat(producer.mayQueue(QueueOperation.SEND, "jobs")).isTrue();
        assertThat(producer.mayQueue(QueueOperation.DECLARE, "jobs")).isTrue();
        assertThat(producer.mayQueue(QueueOperation.CONSUME, "jobs")).isFalse();
        assertThat(producer.mayQueue(QueueOperation.DELETE, "jobs")).isFalse();
        assertThat(producer.isAdmin()).isFalse();

        Permissions consumer = perms(Set.of(Role.CONSUMER), "", "");
        assertThat(consumer.maySubscribe(">")).isTrue();
        assertThat(consumer.mayPublish("orders.eu")).isFalse();
        assertThat(consumer.mayPublish("_INBOX.r4nd0m.7")).isTrue();
        assertThat(consumer.mayQueue(QueueOperation.CONSUME, "jobs")).isTrue();
        assertThat(consumer.mayQueue(QueueOperation.SEND, "jobs")).isFalse();

        Permissions admin = perms(Set.of(Role.ADMIN), "", "");
        for (QueueOperation op : QueueOperation.values()) {
            assertThat(admin.mayQueue(op, "any.queue")).isTrue();
        }
        assertThat(admin.mayPublish("x")).isTrue();
        assertThat(admin.maySubscribe(">")).isTrue();
    }

    @Test
    @Timeout(10)
    void privateInboxesStillObeyDenies() {
        Permissions p = perms(Set.of(Role.PRODUCER), "", "-_INBOX.blocked.>");
        assertThat(p.maySubscribe("_INBOX.mine.*")).isTrue();
        assertThat(p.maySubscribe("_INBOX.blocked.*")).isFalse();
    }

    @Test
    @Timeout(10)
    void queueListsArePerOperation() {
        Permissions p = Permissions.of(Set.of(), Rules.NONE, Rules.NONE,
                Map.of(QueueOperation.SEND, Rules.parse("jobs.>,-jobs.private"),
                        QueueOperation.DELETE, Rules.parse("tmp.*")));
        assertThat(p.mayQueue(QueueOperation.SEND, "jobs.eu")).isTrue();
        assertThat(p.mayQueue(QueueOperation.SEND, "jobs.private")).isFalse();
        assertThat(p.mayQueue(QueueOperation.CONSUME, "jobs.eu")).isFalse();
        assertThat(p.mayQueue(QueueOperation.DELETE, "tmp.1")).isTrue();
    }

    @Test
    @Timeout(10)
    void checkerCachesDecisionsAndAgreesWithPermissions() {
        Permissions p = perms(Set.of(), "a.>,-a.secret", "");
        PermissionChecker c = p.checker();
        for (int round = 0; round < 3; round++) {
            for (String s : List.of("a.b", "a.secret", "b", "a.x.y")) {
                assertThat(c.mayPublish(s)).as(s).isEqualTo(p.mayPublish(s));
            }
        }
        assertThat(c.cacheMisses()).isEqualTo(4);
        assertThat(c.cacheHits()).isEqualTo(8);
        // Many distinct subjects: the cache stays bounded and keeps answering correctly.
        for (int i = 0; i < 10 * PermissionChecker.CACHE_ENTRIES; i++) {
            String s = (i % 3 == 0 ? "b." : "a.") + i;
            assertThat(c.mayPublish(s)).isEqualTo(s.startsWith("a."));
        }
        String longSubject = "a." + "x".repeat(PermissionChecker.MAX_CACHED_SUBJECT_BYTES);
        assertThat(c.mayPublish(longSubject)).isTrue();
        assertThat(c.mayPublish(longSubject)).isTrue();
    }

    @Test
    @Timeout(10)
    void rulesRoundTripThroughText() {
        Rules r = Rules.parse("a.>,b.*,-a.secret");
        assertThat(r.format()).isEqualTo("a.>,b.*,-a.secret");
        assertThat(Rules.parse("").isEmpty()).isTrue();
        assertThatThrownBy(() -> Rules.parse("a.>.b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a.>.b");
        assertThatThrownBy(() -> Rules.parse("a,,b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Rules.parse("x,".repeat(Rules.MAX_ENTRIES) + "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("> max");
    }
}
