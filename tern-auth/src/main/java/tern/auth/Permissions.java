package tern.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one user may do, compiled from their roles and their own lists. Immutable and thread-safe;
 * the broker's hot path uses a per-connection {@link #checker()} that caches recent decisions.
 *
 * <p>Rules (docs/security.md, "Permissions"):
 * <ul>
 *   <li>Publish to subject s: some allow pattern matches s and no deny pattern matches s.</li>
 *   <li>Subscribe to pattern p: every subject p can match is covered by the allow patterns taken
 *       together, and no deny pattern shares any subject with p. So a deny of {@code orders.secret}
 *       refuses a subscription to {@code orders.*}; the broker never filters deliveries.
 *       A user with private inboxes may also subscribe to any {@code _INBOX.<t>...} whose second token
 *       t is literal (the client's random inbox), subject to the same deny rule.</li>
 *   <li>Queue operation on name q: as publish, with that operation's lists.</li>
 *   <li>No allow entry: denied. Default closed: a user with no roles and no lists may do nothing.</li>
 * </ul>
 */
public final class Permissions {
    /** Nothing allowed. */
    public static final Permissions NONE = of(Set.of(), Rules.NONE, Rules.NONE, Map.of());

    static final byte[] INBOX = "_INBOX".getBytes(StandardCharsets.US_ASCII);

    private final boolean admin;
    private final boolean privateInboxes;
    private final Rules publish;
    private final Rules subscribe;
    private final Map<QueueOperation, Rules> queues;
    private final List<byte[][]> subscribeAllows;

    private Permissions(boolean admin, boolean privateInboxes, Rules publish, Rules subscribe,
                        Map<QueueOperation, Rules> queues) {
        this.admin = admin;
        this.privateInboxes = privateInboxes;
        this.publish = publish;
        this.subscribe = subscribe;
        this.queues = queues;
        List<byte[][]> allows = new ArrayList<>();
        for (SubjectPattern p : subscribe.allow()) {
            allows.add(p.tokens());
        }
        this.subscribeAllows = List.copyOf(allows);
    }

    /** Roles' expansions plus the user's own lists (queue lists per operation; missing = none). */
    public static Permissions of(Set<Role> roles, Rules publish, Rules subscribe, Map<QueueOperation, Rules> queues) {
        boolean admin = false;
        boolean inboxes = false;
        Rules pub = Rules.NONE;
        Rules sub = Rules.NONE;
        Map<QueueOperation, Rules> q = new EnumMap<>(QueueOperation.class);
        for (QueueOperation op : QueueOperation.values()) {
            q.put(op, Rules.NONE);
        }
        for (Role r : roles) {
            admin |= r.admin();
            inboxes |= r.privateInboxes();
            pub = pub.plus(r.publish());
            sub = sub.plus(r.subscribe());
            for (Map.Entry<QueueOperation, Rules> e : r.queues().entrySet()) {
                q.put(e.getKey(), q.get(e.getKey()).plus(e.getValue()));
            }
        }
        for (Map.Entry<QueueOperation, Rules> e : queues.entrySet()) {
            q.put(e.getKey(), q.get(e.getKey()).plus(e.getValue()));
        }
        return new Permissions(admin, inboxes, pub.plus(publish), sub.plus(subscribe), Map.copyOf(q));
    }

    /** The admin right: manage users, see statistics, any operation reserved to administrators. */
    public boolean isAdmin() {
        return admin;
    }

    public boolean hasPrivateInboxes() {
        return privateInboxes;
    }

    /** Publish check on the subject's UTF-8 bytes in place (uncached; see {@link #checker()}). */
    public boolean mayPublish(ByteBuffer b, int offset, int length) {
        return allowed(publish, b, offset, length);
    }

    public boolean mayPublish(String subject) {
        byte[] b = subject.getBytes(StandardCharsets.UTF_8);
        return mayPublish(ByteBuffer.wrap(b), 0, b.length);
    }

    /**
     * Subscribe check for a pattern already valid under tern-protocol's Subjects rules.
     *
     * @throws IllegalArgumentException if the pattern is not valid
     */
    public boolean maySubscribe(String pattern) {
        SubjectPattern p = SubjectPattern.parse(pattern);
        for (SubjectPattern d : subscribe.deny()) {
            if (d.intersects(p)) {
                return false;
            }
        }
        if (privateInboxes && p.tokenCount() >= 2 && java.util.Arrays.equals(p.token(0), INBOX)
                && !SubjectPattern.isOne(p.token(1)) && !SubjectPattern.isRest(p.token(1))) {
            return true;
        }
        return SubjectPattern.covered(p.tokens(), 0, subscribeAllows);
    }

    public boolean mayQueue(QueueOperation operation, String queueName) {
        byte[] b = queueName.getBytes(StandardCharsets.UTF_8);
        return allowed(queues.get(operation), ByteBuffer.wrap(b), 0, b.length);
    }

    /** A new per-connection checker with its own decision cache; not thread-safe. */
    public PermissionChecker checker() {
        return new PermissionChecker(this);
    }

    Rules publishRules() {
        return publish;
    }

    Rules subscribeRules() {
        return subscribe;
    }

    Rules queueRules(QueueOperation op) {
        return queues.get(op);
    }

    private static boolean allowed(Rules rules, ByteBuffer b, int offset, int length) {
        for (SubjectPattern d : rules.deny()) {
            if (d.matches(b, offset, length)) {
                return false;
            }
        }
        for (SubjectPattern a : rules.allow()) {
            if (a.matches(b, offset, length)) {
                return true;
            }
        }
        return false;
    }
}
