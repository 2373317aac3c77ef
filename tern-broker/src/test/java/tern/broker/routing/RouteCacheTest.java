package tern.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The per-loop cache compares subjects 8 bytes at a time: every length and every differing byte must miss. */
class RouteCacheTest {
    private static ByteBuf at(int offset, String subject) {
        byte[] s = subject.getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = Unpooled.buffer(offset + s.length);
        b.writeZero(offset).writeBytes(s);
        return b;
    }

    @Test
    @Timeout(10)
    void hitsOnlyTheSameBytesAtAnyOffsetAndLength() {
        RouteCache cache = new RouteCache(new SubjectRouter());
        String base = "orders.eu.region.alpha.beta.gamma.delta";
        for (int len = 1; len <= base.length(); len++) {
            String subject = base.substring(0, len);
            if (subject.endsWith(".")) {
                continue;
            }
            ByteBuf first = at(0, subject);
            int h = RouteCache.hash(first, 0, len);
            assertThat(cache.lookup(first, 0, len, h)).isNull();
            SubjectMatch m = cache.matchAndPut(subject.getBytes(StandardCharsets.US_ASCII), h);
            for (int offset : new int[] {0, 1, 7, 13}) {
                ByteBuf same = at(offset, subject);
                assertThat(RouteCache.hash(same, offset, len)).isEqualTo(h);
                assertThat(cache.lookup(same, offset, len, h)).as("len %d offset %d", len, offset).isSameAs(m);
            }
            for (int i = 0; i < len; i++) {
                char[] c = subject.toCharArray();
                if (c[i] == '.') {
                    continue;
                }
                c[i] = c[i] == 'x' ? 'y' : 'x';
                ByteBuf other = at(3, new String(c));
                // Forced to the same hash: only the byte comparison can tell them apart.
                assertThat(cache.lookup(other, 3, len, h)).as("len %d byte %d differs", len, i).isNull();
            }
        }
    }
}
