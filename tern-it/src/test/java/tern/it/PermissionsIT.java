package tern.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tern.auth.Role;
import tern.auth.Rules;
import tern.auth.User;
import tern.auth.UserStore;
import tern.broker.BrokerConfig;
import tern.broker.TernBroker;
import tern.client.ConnectOptions;
import tern.client.ConsumeOptions;
import tern.client.Connection;
import tern.client.ConnectionEvent;
import tern.client.ConnectionListener;
import tern.client.Delivery;
import tern.client.Message;
import tern.client.QueueConsumer;
import tern.client.QueueInfo;
import tern.client.QueueOptions;
import tern.client.ServerException;
import tern.client.Subscription;
import tern.client.Tern;
import tern.client.TernException;
import tern.protocol.ErrorCode;
import tern.testkit.BrokerLogGuard;

/**
 * Authorisation end to end (docs/security.md, Roles and Permissions): each user logs in over SCRAM to a
 * real broker on 127.0.0.1, port 0; a refused PUB or SUB gets ERROR 302 PERMISSION_DENIED naming the
 * subject, the same connection keeps working, and the broker counts the denial.
 */
@Timeout(60)
class PermissionsIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Long enough for a wrongly routed message to arrive if it were going to. */
    private static final Duration QUIET = Duration.ofMillis(200);

    @RegisterExtension
    static BrokerLogGuard logs = new BrokerLogGuard();

    @TempDir
    static Path dir;
    static TernBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        SecureRandom random = new SecureRandom();
        Path users = dir.resolve("users.tern");
        UserStore.empty()
                .put(User.named("prod").withRoles(Set.of(Role.PRODUCER)).withPassword("pw", 4096, random))
                .put(User.named("cons").withRoles(Set.of(Role.CONSUMER)).withPassword("pw", 4096, random))
                .put(User.named("root").withRoles(Set.of(Role.ADMIN)).withPublish(Rules.parse("-secret.>"))
                        .withPassword("pw", 4096, random))
                .put(User.named("lim").withPublish(Rules.parse("orders.>,-orders.secret"))
                        .withSubscribe(Rules.parse("orders.*")).withPassword("pw", 4096, random))
                .save(users);
        broker = TernBroker.start(BrokerConfig.defaults().withPort(0).withDataDir(dir.resolve("data"))
                .withUsersFile(users));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Connection login(String user, List<TernException> errors) {
        return Tern.connect(ConnectOptions.builder().port(broker.port()).connectTimeout(WAIT).reconnect(false)
                .name(user).user(user).password("pw").listener(new ConnectionListener() {
                    @Override
                    public void onEvent(ConnectionEvent event, Connection connection) {
                    }

                    @Override
                    public void onError(TernException error) {
                        errors.add(error);
                    }
                }).build());
    }

    @Test
    void producerPublishesButMayNotSubscribe() {
        List<TernException> errors = new CopyOnWriteArrayList<>();
        long denied = broker.stats().permissionDenials();
        try (Connection prod = login("prod", errors);
             Connection cons = login("cons", new CopyOnWriteArrayList<>())) {
            assertThatThrownBy(() -> prod.subscribe("orders.*")).isInstanceOfSatisfying(ServerException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
                assertThat(e.text()).contains("'orders.*'").contains("prod");
            });
            // the same connection keeps working
            Subscription orders = cons.subscribe("orders.*");
            prod.publish("orders.eu", "1".getBytes(UTF_8));
            prod.flush(WAIT);
            assertThat(orders.next(WAIT).payload()).isEqualTo("1".getBytes(UTF_8));
            assertThat(errors).isEmpty();
        }
        poll(() -> broker.stats().permissionDenials() == denied + 1);
    }

    @Test
    void consumerMayNotPublishOutsideInboxesAndTheDeniedMessageGoesNowhere() {
        List<TernException> errors = new CopyOnWriteArrayList<>();
        long denied = broker.stats().permissionDenials();
        try (Connection cons = login("cons", errors);
             Connection root = login("root", new CopyOnWriteArrayList<>())) {
            Subscription all = root.subscribe("orders.>");
            cons.publish("orders.eu", "forbidden".getBytes(UTF_8));
            cons.flush(WAIT);
            poll(() -> !errors.isEmpty());
            assertThat(errors.get(0)).isInstanceOfSatisfying(ServerException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
                assertThat(e.text()).contains("publish to 'orders.eu'");
            });
            assertThat(all.next(QUIET)).isNull();
            // still connected and still allowed what consumers may do
            Subscription mine = cons.subscribe("orders.>");
            root.publish("orders.us", "ok".getBytes(UTF_8));
            assertThat(mine.next(WAIT).payload()).isEqualTo("ok".getBytes(UTF_8));
            cons.publish("_INBOX.someone.1", "reply".getBytes(UTF_8));
            cons.flush(WAIT);
            assertThat(errors).hasSize(1);
        }
        poll(() -> broker.stats().permissionDenials() == denied + 1);
    }

    @Test
    void allowAndDenyListsAreEnforced() {
        List<TernException> errors = new CopyOnWriteArrayList<>();
        try (Connection lim = login("lim", errors);
             Connection root = login("root", new CopyOnWriteArrayList<>())) {
            Subscription seen = root.subscribe("orders.>");
            lim.publish("orders.eu", "a".getBytes(UTF_8));
            lim.publish("orders.secret", "b".getBytes(UTF_8));
            lim.publish("billing.x", "c".getBytes(UTF_8));
            lim.flush(WAIT);
            assertThat(seen.next(WAIT).payload()).isEqualTo("a".getBytes(UTF_8));
            assertThat(seen.next(QUIET)).isNull();
            poll(() -> errors.size() == 2);
            assertThat(errors).extracting(e -> ((ServerException) e).text())
                    .anyMatch(t -> t.contains("'orders.secret'")).anyMatch(t -> t.contains("'billing.x'"));
            Subscription ok = lim.subscribe("orders.*");
            assertThat(ok).isNotNull();
            for (String pattern : List.of("orders.>", "billing.*", ">")) {
                assertThatThrownBy(() -> lim.subscribe(pattern)).isInstanceOfSatisfying(ServerException.class,
                        e -> assertThat(e.text()).contains("'" + pattern + "'"));
            }
            // admin's own deny entry wins over the admin role
            List<TernException> rootErrors = new CopyOnWriteArrayList<>();
            try (Connection root2 = login("root", rootErrors)) {
                root2.publish("secret.plans", "x".getBytes(UTF_8));
                root2.publish("public.plans", "y".getBytes(UTF_8));
                root2.flush(WAIT);
                poll(() -> rootErrors.size() == 1);
                assertThat(((ServerException) rootErrors.get(0)).text()).contains("'secret.plans'");
            }
        }
    }

    @Test
    void requestReplyWorksWithTheRolesInboxRules() {
        List<TernException> errors = new CopyOnWriteArrayList<>();
        try (Connection replier = login("cons", errors);
             Connection requester = login("prod", errors)) {
            replier.subscribe("svc.time", m -> replier.publish(m.replyTo(), ("now:" + new String(m.payload(), UTF_8))
                    .getBytes(UTF_8)));
            replier.flush(WAIT);
            Message answer = requester.request("svc.time", "q".getBytes(UTF_8), WAIT);
            assertThat(new String(answer.payload(), UTF_8)).isEqualTo("now:q");
            // a producer's inbox is private: it may not read every inbox
            assertThatThrownBy(() -> requester.subscribe("_INBOX.>")).isInstanceOf(ServerException.class);
            assertThatThrownBy(() -> requester.subscribe("_INBOX.*.*")).isInstanceOf(ServerException.class);
            Message again = requester.request("svc.time", "r".getBytes(UTF_8), WAIT);
            assertThat(new String(again.payload(), UTF_8)).isEqualTo("now:r");
            assertThat(errors).isEmpty();
        }
    }

    @Test
    void queueOperationsFollowTheQueueRightsAndAdminOperationsNeedAdmin() {
        List<TernException> errors = new CopyOnWriteArrayList<>();
        try (Connection prod = login("prod", errors);
             Connection cons = login("cons", errors);
             Connection root = login("root", errors)) {
            prod.declareQueue("perm.jobs", QueueOptions.transientQueue());
            prod.sendAndWait("perm.jobs", "job-1".getBytes(UTF_8), WAIT);
            assertDenied(() -> cons.declareQueue("perm.other", QueueOptions.transientQueue()), "perm.other");
            assertDenied(() -> cons.sendAndWait("perm.jobs", "x".getBytes(UTF_8), WAIT), "perm.jobs");
            assertDenied(() -> prod.consume("perm.jobs", ConsumeOptions.defaults(), null), "perm.jobs");
            assertDenied(() -> prod.purgeQueue("perm.jobs"), "admin only");
            assertDenied(() -> prod.listQueues(), "admin only");
            assertDenied(() -> prod.deleteQueue("perm.jobs"), "perm.jobs");
            // a binding would copy PUBs into the queue: it needs the right to subscribe to the pattern
            assertDenied(() -> prod.declareQueue("perm.tap", QueueOptions.builder().bind("orders.>").build()),
                    "orders.>");
            // so does adding one to an existing queue, and removing one (both need queue-declare too)
            assertDenied(() -> prod.bindQueue("perm.jobs", "orders.>"), "bind queue 'perm.jobs' to 'orders.>'");
            assertDenied(() -> prod.unbindQueue("perm.jobs", "orders.>"), "unbind queue 'perm.jobs' from 'orders.>'");
            assertDenied(() -> cons.bindQueue("perm.jobs", "orders.>"), "queue-declare");
            assertThat(root.bindQueue("perm.jobs", "perm.tap.*")).isTrue();
            assertDenied(() -> prod.unbindQueue("perm.jobs", "perm.tap.*"), "perm.tap.*");
            assertThat(root.unbindQueue("perm.jobs", "perm.tap.*")).isTrue();
            try (QueueConsumer consumer = cons.consume("perm.jobs", ConsumeOptions.defaults(), null)) {
                Delivery d = consumer.next(WAIT);
                assertThat(d.payload()).isEqualTo("job-1".getBytes(UTF_8));
                d.ack();
            }
            // the refused connections still work
            prod.sendAndWait("perm.jobs", "job-2".getBytes(UTF_8), WAIT);
            assertThat(root.listQueues()).extracting(QueueInfo::name).contains("perm.jobs");
            assertThat(root.purgeQueue("perm.jobs")).isEqualTo(1);
            root.deleteQueue("perm.jobs");
        }
    }

    private static void assertDenied(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String named) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ServerException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
            assertThat(e.text()).contains(named);
        });
    }

    @Test
    void deniedOperationsAreCountedOnePerRefusal() {
        long before = broker.stats().permissionDenials();
        List<TernException> errors = new CopyOnWriteArrayList<>();
        try (Connection prod = login("prod", errors)) {
            for (int i = 0; i < 3; i++) {
                int n = i;
                assertThatThrownBy(() -> prod.subscribe("denied." + n)).isInstanceOf(ServerException.class);
            }
            prod.publish("fine", new byte[0]);
            prod.flush(WAIT);
        }
        poll(() -> broker.stats().permissionDenials() == before + 3);
        assertThat(broker.stats().errors(ErrorCode.PERMISSION_DENIED)).isEqualTo(before + 3);
    }

    private static void poll(BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + WAIT);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }
}
