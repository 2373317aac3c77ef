package tern.broker.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A subject trie: one node per token, with separate edges for {@code *} (any one token) and
 * {@code >} (one or more trailing tokens). Mutations and uncached matches take the router's lock;
 * the publish hot path goes through a per-event-loop {@link RouteCache} that is invalidated by
 * {@link #generation()} whenever a route is added or removed.
 *
 * <p>Empty nodes are pruned on removal, so memory follows the live routes, which are bounded by
 * maxConnections x maxSubscriptions.
 */
public final class SubjectRouter {
    private final Node root = new Node();
    private volatile long generation;
    private int routes;

    /** Bumped on every change; caches holding an older value are stale. */
    public long generation() {
        return generation;
    }

    public synchronized int size() {
        return routes;
    }

    public synchronized void add(Route route) {
        Node node = root;
        for (String token : split(route.pattern())) {
            node = node.child(token, true);
        }
        node.add(route);
        routes++;
        generation++;
    }

    /** Removes the route; returns false when it was not present. */
    public synchronized boolean remove(Route route) {
        String[] tokens = split(route.pattern());
        Node[] path = new Node[tokens.length + 1];
        path[0] = root;
        for (int i = 0; i < tokens.length; i++) {
            path[i + 1] = path[i].child(tokens[i], false);
            if (path[i + 1] == null) {
                return false;
            }
        }
        if (!path[tokens.length].remove(route)) {
            return false;
        }
        for (int i = tokens.length; i > 0; i--) {
            if (!path[i].isEmpty()) {
                break;
            }
            path[i - 1].removeChild(tokens[i - 1]);
        }
        routes--;
        generation++;
        return true;
    }

    /** Every route matching a (valid, wildcard-free) subject. Allocates: use a {@link RouteCache} on hot paths. */
    public synchronized SubjectMatch match(String subject) {
        List<Route> plain = new ArrayList<>();
        Map<String, List<Route>> groups = new LinkedHashMap<>();
        collect(root, split(subject), 0, plain, groups);
        return SubjectMatch.of(plain, new ArrayList<>(groups.values()));
    }

    /** Same as {@link #match(String)} for UTF-8 subject bytes. */
    public SubjectMatch match(byte[] subject) {
        return match(new String(subject, StandardCharsets.UTF_8));
    }

    private static void collect(Node node, String[] tokens, int i, List<Route> plain,
                                Map<String, List<Route>> groups) {
        if (i == tokens.length) {
            node.collectInto(plain, groups);
            return;
        }
        Node literal = node.children == null ? null : node.children.get(tokens[i]);
        if (literal != null) {
            collect(literal, tokens, i + 1, plain, groups);
        }
        if (node.one != null) {
            collect(node.one, tokens, i + 1, plain, groups);
        }
        if (node.rest != null) {
            node.rest.collectInto(plain, groups);
        }
    }

    private static String[] split(String subject) {
        int count = 1;
        for (int i = 0; i < subject.length(); i++) {
            if (subject.charAt(i) == '.') {
                count++;
            }
        }
        String[] tokens = new String[count];
        int start = 0;
        int t = 0;
        for (int i = 0; i <= subject.length(); i++) {
            if (i == subject.length() || subject.charAt(i) == '.') {
                tokens[t++] = subject.substring(start, i);
                start = i + 1;
            }
        }
        return tokens;
    }

    private static final class Node {
        Map<String, Node> children;
        Node one;
        Node rest;
        List<Route> plain;
        Map<String, List<Route>> groups;

        Node child(String token, boolean create) {
            if (token.equals("*")) {
                if (one == null && create) {
                    one = new Node();
                }
                return one;
            }
            if (token.equals(">")) {
                if (rest == null && create) {
                    rest = new Node();
                }
                return rest;
            }
            Node n = children == null ? null : children.get(token);
            if (n == null && create) {
                if (children == null) {
                    children = new HashMap<>();
                }
                n = new Node();
                children.put(token, n);
            }
            return n;
        }

        void removeChild(String token) {
            if (token.equals("*")) {
                one = null;
            } else if (token.equals(">")) {
                rest = null;
            } else if (children != null) {
                children.remove(token);
                if (children.isEmpty()) {
                    children = null;
                }
            }
        }

        void add(Route route) {
            if (route.queue() == null) {
                if (plain == null) {
                    plain = new ArrayList<>(2);
                }
                plain.add(route);
            } else {
                if (groups == null) {
                    groups = new HashMap<>();
                }
                groups.computeIfAbsent(route.queue(), q -> new ArrayList<>(2)).add(route);
            }
        }

        boolean remove(Route route) {
            if (route.queue() == null) {
                if (plain == null || !removeIdentity(plain, route)) {
                    return false;
                }
                if (plain.isEmpty()) {
                    plain = null;
                }
                return true;
            }
            List<Route> members = groups == null ? null : groups.get(route.queue());
            if (members == null || !removeIdentity(members, route)) {
                return false;
            }
            if (members.isEmpty()) {
                groups.remove(route.queue());
                if (groups.isEmpty()) {
                    groups = null;
                }
            }
            return true;
        }

        private static boolean removeIdentity(List<Route> list, Route route) {
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i) == route) {
                    list.remove(i);
                    return true;
                }
            }
            return false;
        }

        void collectInto(List<Route> plainOut, Map<String, List<Route>> groupsOut) {
            if (plain != null) {
                plainOut.addAll(plain);
            }
            if (groups != null) {
                for (Map.Entry<String, List<Route>> e : groups.entrySet()) {
                    groupsOut.computeIfAbsent(e.getKey(), q -> new ArrayList<>()).addAll(e.getValue());
                }
            }
        }

        boolean isEmpty() {
            return children == null && one == null && rest == null && plain == null && groups == null;
        }
    }
}
