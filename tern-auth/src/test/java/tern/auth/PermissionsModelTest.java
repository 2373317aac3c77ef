package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real checker against a small, obviously-correct model: naive token matching over plain lists,
 * role expansions written out from docs/security.md, and subscribe decided by brute force over every
 * subject that can tell patterns apart (tokens from the vocabulary plus one fresh token, up to one
 * token longer than the longest pattern).
 */
class PermissionsModelTest {
    static final String[] VOCABULARY = {"a", "b", "c", "_INBOX"};
    static final String FRESH = "zz";
    static final int CASES = 100_000;
    static final int USERS = 60;

    /** The model of one user: plain string lists. */
    record ModelUser(Set<Role> roles, List<String> pubAllow, List<String> pubDeny, List<String> subAllow,
                     List<String> subDeny, Map<QueueOperation, List<List<String>>> queues) {
    }

    static boolean naiveMatch(String[] p, String[] s) {
        for (int i = 0; i < p.length; i++) {
            if (p[i].equals(">")) {
                return s.length > i;
            }
            if (i >= s.length || !(p[i].equals("*") || p[i].equals(s[i]))) {
                return false;
            }
        }
        return p.length == s.length;
    }

    static boolean anyMatch(List<String> patterns, String[] s) {
        for (String p : patterns) {
            if (naiveMatch(p.split("\\."), s)) {
                return true;
            }
        }
        return false;
    }

    static boolean allowed(List<String> allow, List<String> deny, String[] s) {
        return anyMatch(allow, s) && !anyMatch(deny, s);
    }

    // The documented role table, written out independently of Role.java.
    static List<String> pubAllow(ModelUser u) {
        List<String> l = new ArrayList<>(u.pubAllow);
        if (u.roles.contains(Role.ADMIN) || u.roles.contains(Role.PRODUCER)) {
            l.add(">");
        }
        if (u.roles.contains(Role.CONSUMER)) {
            l.add("_INBOX.>");
        }
        return l;
    }

    static List<String> subAllow(ModelUser u) {
        List<String> l = new ArrayList<>(u.subAllow);
        if (u.roles.contains(Role.ADMIN) || u.roles.contains(Role.CONSUMER)) {
            l.add(">");
        }
        return l;
    }

    static List<String> queueAllow(ModelUser u, QueueOperation op) {
        List<String> l = new ArrayList<>(u.queues.get(op).get(0));
        boolean role = u.roles.contains(Role.ADMIN)
                || (u.roles.contains(Role.PRODUCER) && (op == QueueOperation.SEND || op == QueueOperation.DECLARE))
                || (u.roles.contains(Role.CONSUMER) && op == QueueOperation.CONSUME);
        if (role) {
            l.add(">");
        }
        return l;
    }

    static boolean modelPublish(ModelUser u, String subject) {
        return allowed(pubAllow(u), u.pubDeny, subject.split("\\."));
    }

    static boolean modelQueue(ModelUser u, QueueOperation op, String name) {
        return allowed(queueAllow(u, op), u.queues.get(op).get(1), name.split("\\."));
    }

    /** Every subject the pattern can match must be allowed (brute force over the witnesses). */
    static boolean modelSubscribe(ModelUser u, String pattern, List<String[]> witnesses) {
        String[] p = pattern.split("\\.");
        boolean inbox = u.roles.contains(Role.PRODUCER) && p.length >= 2 && p[0].equals("_INBOX")
                && !p[1].equals("*") && !p[1].equals(">");
        List<String> allow = subAllow(u);
        for (String[] s : witnesses) {
            if (naiveMatch(p, s)) {
                if (anyMatch(u.subDeny, s)) {
                    return false;
                }
                if (!inbox && !anyMatch(allow, s)) {
                    return false;
                }
            }
        }
        return true;
    }

    static String randomPattern(Random r) {
        int n = 1 + r.nextInt(3);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(VOCABULARY.length + 2);
            String t = k < VOCABULARY.length ? VOCABULARY[k] : (k == VOCABULARY.length || i < n - 1 ? "*" : ">");
            sb.append(i == 0 ? "" : ".").append(t);
        }
        return sb.toString();
    }

    static String randomSubject(Random r) {
        int n = 1 + r.nextInt(4);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(VOCABULARY.length + 1);
            sb.append(i == 0 ? "" : ".").append(k < VOCABULARY.length ? VOCABULARY[k] : FRESH);
        }
        return sb.toString();
    }

    static List<String> patterns(Random r) {
        List<String> l = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            l.add(randomPattern(r));
        }
        return l;
    }

    static String list(List<String> allow, List<String> deny) {
        List<String> all = new ArrayList<>(allow);
        for (String d : deny) {
            all.add("-" + d);
        }
        return String.join(",", all);
    }

    /** Witnesses: all subjects of 1..4 tokens over the vocabulary plus a fresh token. */
    static List<String[]> witnesses() {
        List<String[]> out = new ArrayList<>();
        List<String> tokens = new ArrayList<>(List.of(VOCABULARY));
        tokens.add(FRESH);
        List<List<String>> level = List.of(List.of());
        for (int len = 1; len <= 4; len++) {
            List<List<String>> next = new ArrayList<>();
            for (List<String> prefix : level) {
                for (String t : tokens) {
                    List<String> s = new ArrayList<>(prefix);
                    s.add(t);
                    next.add(s);
                    out.add(s.toArray(new String[0]));
                }
            }
            level = next;
        }
        return out;
    }

    @Test
    @Timeout(120)
    void realCheckerAgreesWithTheReferenceModel() throws Exception {
        long seed = System.nanoTime();
        System.out.println("PermissionsModelTest seed=" + seed);
        Random r = new Random(seed);
        List<String[]> witnesses = witnesses();
        List<ModelUser> models = new ArrayList<>();
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < USERS; i++) {
            Set<Role> roles = EnumSet.noneOf(Role.class);
            for (Role role : Role.values()) {
                if (r.nextInt(4) == 0) {
                    roles.add(role);
                }
            }
            Map<QueueOperation, List<List<String>>> queues = new EnumMap<>(QueueOperation.class);
            for (QueueOperation op : QueueOperation.values()) {
                queues.put(op, List.of(patterns(r), patterns(r)));
            }
            ModelUser m = new ModelUser(roles, patterns(r), patterns(r), patterns(r), patterns(r), queues);
            models.add(m);
            // Build the real users through the users-file parser, so parsing is covered too.
            file.append("u").append(i);
            if (!roles.isEmpty()) {
                file.append(" roles=").append(String.join(",", roles.stream().map(Role::key).toList()));
            }
            appendList(file, "publish", m.pubAllow, m.pubDeny);
            appendList(file, "subscribe", m.subAllow, m.subDeny);
            for (QueueOperation op : QueueOperation.values()) {
                appendList(file, op.key(), queues.get(op).get(0), queues.get(op).get(1));
            }
            file.append('\n');
        }
        UserStore store = UserStore.parse(file.toString(), "generated");
        List<PermissionChecker> checkers = new ArrayList<>();
        for (int i = 0; i < USERS; i++) {
            checkers.add(store.user("u" + i).orElseThrow().permissions().checker());
        }
        int disagreements = 0;
        int[] allowedCount = new int[3];
        String firstDisagreement = null;
        for (int c = 0; c < CASES; c++) {
            int ui = r.nextInt(USERS);
            ModelUser m = models.get(ui);
            PermissionChecker real = checkers.get(ui);
            int op = r.nextInt(3);
            boolean expected;
            boolean actual;
            String what;
            if (op == 0) {
                String s = randomSubject(r);
                what = "publish " + s;
                expected = modelPublish(m, s);
                actual = real.mayPublish(s);
                if (actual != real.permissions().mayPublish(s)) {
                    disagreements++;
                }
            } else if (op == 1) {
                String p = randomPattern(r);
                if (r.nextInt(4) == 0) {
                    p = "_INBOX." + randomPattern(r);
                }
                what = "subscribe " + p;
                expected = modelSubscribe(m, p, witnesses);
                actual = real.maySubscribe(p);
            } else {
                QueueOperation q = QueueOperation.values()[r.nextInt(QueueOperation.values().length)];
                String name = randomSubject(r);
                what = q + " " + name;
                expected = modelQueue(m, q, name);
                actual = real.mayQueue(q, name);
            }
            if (actual) {
                allowedCount[op]++;
            }
            if (expected != actual) {
                disagreements++;
                if (firstDisagreement == null) {
                    firstDisagreement = "u" + ui + " " + m + " " + what + ": model " + expected + ", real " + actual;
                }
            }
        }
        System.out.printf("PermissionsModelTest: %d cases, allowed publish/subscribe/queue %d/%d/%d%n",
                CASES, allowedCount[0], allowedCount[1], allowedCount[2]);
        assertThat(disagreements).as("seed %d, first: %s", seed, firstDisagreement).isZero();
        // The cases must exercise both outcomes of every operation, or the comparison proves little.
        for (int n : allowedCount) {
            assertThat(n).as("seed %d", seed).isBetween(1000, CASES / 3 - 1000);
        }
    }

    static void appendList(StringBuilder sb, String key, List<String> allow, List<String> deny) {
        if (!allow.isEmpty() || !deny.isEmpty()) {
            sb.append(' ').append(key).append('=').append(list(allow, deny));
        }
    }
}
