package tern.broker.routing;

/**
 * One subscription as the router sees it: a pattern, an optional queue group, and an opaque target
 * the caller delivers to. Identity is the object itself: adding the same route twice is a bug.
 */
public interface Route {
    /** The subscription pattern, already checked with {@code Subjects.checkPattern}. */
    String pattern();

    /** The queue group name, or null for a plain subscription. */
    String queue();
}
