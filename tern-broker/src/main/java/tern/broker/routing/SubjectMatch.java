package tern.broker.routing;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The routes matching one subject: every plain route gets the message; each queue group gives it to
 * exactly one member, chosen round-robin by {@link #pickMember}. Instances are cached per event loop
 * and only touched by that loop, so the round-robin cursors need no synchronisation.
 */
public final class SubjectMatch {
    /** The match of a subject nobody is subscribed to. Shared; holds no cursor. */
    public static final SubjectMatch EMPTY = new SubjectMatch(new Route[0], new Route[0][]);

    private final Route[] plain;
    private final Route[][] groups;
    private final int[] cursors;

    SubjectMatch(Route[] plain, Route[][] groups) {
        this.plain = plain;
        this.groups = groups;
        this.cursors = new int[groups.length];
        // Start each group at a random member: a match is rebuilt whenever any subscription changes,
        // and always restarting at member 0 would skew the distribution under subscription churn.
        for (int i = 0; i < groups.length; i++) {
            cursors[i] = ThreadLocalRandom.current().nextInt(groups[i].length);
        }
    }

    static SubjectMatch of(List<Route> plain, List<List<Route>> groups) {
        if (plain.isEmpty() && groups.isEmpty()) {
            return EMPTY;
        }
        Route[][] g = new Route[groups.size()][];
        for (int i = 0; i < g.length; i++) {
            g[i] = groups.get(i).toArray(new Route[0]);
        }
        return new SubjectMatch(plain.toArray(new Route[0]), g);
    }

    /** True when no route matches: a request to this subject has no responders. */
    public boolean isEmpty() {
        return plain.length == 0 && groups.length == 0;
    }

    public int plainCount() {
        return plain.length;
    }

    public Route plain(int i) {
        return plain[i];
    }

    public int groupCount() {
        return groups.length;
    }

    /** Members of group i (all share one queue name). */
    public Route[] group(int i) {
        return groups[i];
    }

    /** The next member of group i in round-robin order. */
    public Route pickMember(int i) {
        Route[] members = groups[i];
        int c = cursors[i];
        if (c >= members.length) {
            c = 0;
        }
        cursors[i] = c + 1;
        return members[c];
    }
}
