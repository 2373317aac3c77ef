package tern.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SubjectRouterTest {
    record R(String pattern, String queue) implements Route {
    }

    @Test
    @Timeout(10)
    void queueGroupPicksRoundRobin() {
        SubjectRouter router = new SubjectRouter();
        R a = new R("w.*", "g");
        R b = new R("w.>", "g");
        R c = new R("w.x", "h");
        router.add(a);
        router.add(b);
        router.add(c);
        SubjectMatch m = router.match("w.x");
        assertThat(m.plainCount()).isZero();
        assertThat(m.groupCount()).isEqualTo(2);
        int g = m.group(0)[0].queue().equals("g") ? 0 : 1;
        Route first = m.pickMember(g);
        Route second = m.pickMember(g);
        assertThat(first).isNotSameAs(second);
        assertThat(m.pickMember(g)).isSameAs(first);
    }

    @Test
    @Timeout(10)
    void routeCacheHitsUntilRouterChanges() {
        SubjectRouter router = new SubjectRouter();
        RouteCache cache = new RouteCache(router);
        R a = new R("s.*", null);
        router.add(a);
        ByteBuf buf = Unpooled.copiedBuffer("xxs.1yy", StandardCharsets.UTF_8);
        int h = RouteCache.hash(buf, 2, 3);
        assertThat(cache.lookup(buf, 2, 3, h)).isNull();
        SubjectMatch m = cache.matchAndPut("s.1".getBytes(StandardCharsets.UTF_8), h);
        assertThat(cache.lookup(buf, 2, 3, h)).isSameAs(m);
        ByteBuf other = Unpooled.copiedBuffer("s.2", StandardCharsets.UTF_8);
        assertThat(cache.lookup(other, 0, 3, RouteCache.hash(other, 0, 3))).isNull();
        router.add(new R("s.1", null));
        assertThat(cache.lookup(buf, 2, 3, h)).isNull();
        assertThat(cache.matchAndPut("s.1".getBytes(StandardCharsets.UTF_8), h).plainCount()).isEqualTo(2);
        assertThat(cache.hits()).isEqualTo(1);
        buf.release();
        other.release();
    }

    @Test
    @Timeout(10)
    void removeOfUnknownRouteIsFalse() {
        SubjectRouter router = new SubjectRouter();
        assertThat(router.remove(new R("a.b", null))).isFalse();
        R r = new R("a.b", null);
        router.add(r);
        assertThat(router.remove(new R("a.b", null))).isFalse();
        assertThat(router.remove(r)).isTrue();
        assertThat(router.size()).isZero();
    }
}
