package tern.auth;

import java.util.ArrayList;
import java.util.List;

/**
 * One allow list and one deny list of patterns. In the users file a list is comma-separated and a
 * leading '-' marks a deny entry: {@code orders.>,-orders.secret}. Deny wins over allow; an empty
 * allow list allows nothing.
 *
 * @param allow patterns that grant
 * @param deny  patterns that refuse, whatever else grants
 */
public record Rules(List<SubjectPattern> allow, List<SubjectPattern> deny) {
    /** Most entries (allow + deny) in one list. */
    public static final int MAX_ENTRIES = 1024;
    public static final Rules NONE = new Rules(List.of(), List.of());

    public Rules {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        if (allow.size() + deny.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException((allow.size() + deny.size()) + " entries > max " + MAX_ENTRIES);
        }
    }

    /**
     * Parses {@code a.>,-a.secret}. The empty string is the empty list.
     *
     * @throws IllegalArgumentException naming the bad entry
     */
    public static Rules parse(String text) {
        if (text.isEmpty()) {
            return NONE;
        }
        String[] entries = text.split(",", -1);
        if (entries.length > MAX_ENTRIES) {
            throw new IllegalArgumentException(entries.length + " entries > max " + MAX_ENTRIES);
        }
        List<SubjectPattern> allow = new ArrayList<>();
        List<SubjectPattern> deny = new ArrayList<>();
        for (String e : entries) {
            if (e.startsWith("-")) {
                deny.add(SubjectPattern.parse(e.substring(1)));
            } else {
                allow.add(SubjectPattern.parse(e));
            }
        }
        return new Rules(allow, deny);
    }

    public boolean isEmpty() {
        return allow.isEmpty() && deny.isEmpty();
    }

    /** These entries followed by other's. */
    public Rules plus(Rules other) {
        List<SubjectPattern> a = new ArrayList<>(allow);
        a.addAll(other.allow);
        List<SubjectPattern> d = new ArrayList<>(deny);
        d.addAll(other.deny);
        return new Rules(a, d);
    }

    /** The users-file text: allows, then denies with '-'. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        for (SubjectPattern p : allow) {
            sb.append(sb.length() == 0 ? "" : ",").append(p.text());
        }
        for (SubjectPattern p : deny) {
            sb.append(sb.length() == 0 ? "" : ",").append('-').append(p.text());
        }
        return sb.toString();
    }
}
