package tern.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The trie against a naive reference matcher, over random patterns and subjects (jqwik prints the seed). */
class SubjectRouterProperties {

    record TestRoute(String pattern, String queue, int n) implements Route {
    }

    /** The reference: match token by token. */
    static boolean naiveMatches(String pattern, String subject) {
        String[] p = pattern.split("\\.", -1);
        String[] s = subject.split("\\.", -1);
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

    private static Arbitrary<String> token() {
        return Arbitraries.of("a", "b", "c", "orders", "x1");
    }

    @Provide
    Arbitrary<List<String>> patterns() {
        Arbitrary<String> patternToken = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, token()), net.jqwik.api.Tuple.of(2, Arbitraries.just("*")));
        Arbitrary<String> pattern = Combinators.combine(
                patternToken.list().ofMinSize(1).ofMaxSize(4), Arbitraries.of(true, false, false))
                .as((tokens, rest) -> {
                    List<String> t = new ArrayList<>(tokens);
                    if (rest) {
                        t.add(">");
                    }
                    return String.join(".", t);
                });
        return pattern.list().ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<String>> subjects() {
        return token().list().ofMinSize(1).ofMaxSize(5).map(t -> String.join(".", t)).list().ofMinSize(1).ofMaxSize(20);
    }

    @Property(tries = 300)
    void trieMatchesLikeTheReference(@ForAll("patterns") List<String> patterns,
                                     @ForAll("subjects") List<String> subjects) {
        SubjectRouter router = new SubjectRouter();
        List<TestRoute> routes = new ArrayList<>();
        for (int i = 0; i < patterns.size(); i++) {
            TestRoute r = new TestRoute(patterns.get(i), i % 3 == 0 ? "q" + (i % 2) : null, i);
            routes.add(r);
            router.add(r);
        }
        for (String subject : subjects) {
            assertSame(router.match(subject), expected(routes, subject), subject);
        }
    }

    @Property(tries = 100)
    void churnKeepsTrieConsistentAndPrunesToEmpty(@ForAll("patterns") List<String> patterns,
                                                  @ForAll("subjects") List<String> subjects,
                                                  @ForAll long seed) {
        Random random = new Random(seed);
        SubjectRouter router = new SubjectRouter();
        List<TestRoute> live = new ArrayList<>();
        int n = 0;
        for (int step = 0; step < 200; step++) {
            if (!patterns.isEmpty() && (live.isEmpty() || random.nextInt(3) > 0)) {
                String p = patterns.get(random.nextInt(patterns.size()));
                TestRoute r = new TestRoute(p, random.nextInt(4) == 0 ? "g" : null, n++);
                router.add(r);
                live.add(r);
            } else if (!live.isEmpty()) {
                TestRoute r = live.remove(random.nextInt(live.size()));
                assertThat(router.remove(r)).isTrue();
                assertThat(router.remove(r)).isFalse();
            }
            String subject = subjects.get(random.nextInt(subjects.size()));
            assertSame(router.match(subject), expected(live, subject), subject);
        }
        for (TestRoute r : live) {
            assertThat(router.remove(r)).isTrue();
        }
        assertThat(router.size()).isZero();
        for (String subject : subjects) {
            assertThat(router.match(subject).isEmpty()).isTrue();
        }
    }

    private static List<TestRoute> expected(List<TestRoute> routes, String subject) {
        List<TestRoute> out = new ArrayList<>();
        for (TestRoute r : routes) {
            if (naiveMatches(r.pattern(), subject)) {
                out.add(r);
            }
        }
        return out;
    }

    private static void assertSame(SubjectMatch m, List<TestRoute> expected, String subject) {
        Set<Route> plain = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < m.plainCount(); i++) {
            assertThat(plain.add(m.plain(i))).as("duplicate plain route for " + subject).isTrue();
        }
        Set<Route> expectedPlain = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        Set<String> expectedGroups = new HashSet<>();
        List<Route> expectedGrouped = new ArrayList<>();
        for (TestRoute r : expected) {
            if (r.queue() == null) {
                expectedPlain.add(r);
            } else {
                expectedGroups.add(r.queue());
                expectedGrouped.add(r);
            }
        }
        assertThat(plain).as("plain routes for " + subject).isEqualTo(expectedPlain);
        Set<String> groups = new HashSet<>();
        List<Route> grouped = new ArrayList<>();
        for (int g = 0; g < m.groupCount(); g++) {
            Route[] members = m.group(g);
            assertThat(groups.add(members[0].queue())).as("one entry per group name").isTrue();
            for (Route r : members) {
                assertThat(r.queue()).isEqualTo(members[0].queue());
                grouped.add(r);
            }
        }
        assertThat(groups).isEqualTo(expectedGroups);
        assertThat(grouped).containsExactlyInAnyOrderElementsOf(expectedGrouped);
        assertThat(m.isEmpty()).isEqualTo(expected.isEmpty());
    }
}
