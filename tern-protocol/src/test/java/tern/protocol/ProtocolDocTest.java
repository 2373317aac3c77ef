package tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static tern.protocol.TestFrames.NONE;
import static tern.protocol.TestFrames.utf8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keeps docs/protocol.md honest: every ```hex block decodes to the frame its name says, and the
 * frame-type, flag, limit and error-code tables equal the code.
 *
 * <p>Hex block convention: a fenced block whose info string is {@code hex <example-name>}; inside,
 * bytes as pairs of hex digits separated by whitespace, and {@code #} comments to the end of a line.
 */
@Timeout(10)
class ProtocolDocTest {
    private static final Pattern HEX_BLOCK = Pattern.compile("(?m)^```hex (\\S+)\\n(.*?)^```$", Pattern.DOTALL);
    private static final Pattern HEADING = Pattern.compile("(?m)^(#{2,3}) (.+)$");

    /** The frames each example in the document must decode to. */
    private static final Map<String, List<Frame>> EXAMPLES = examples();

    private static String doc;

    @BeforeAll
    static void readDocument() throws IOException {
        doc = Files.readString(findDoc(), StandardCharsets.UTF_8);
    }

    private static Map<String, List<Frame>> examples() {
        Map<String, List<Frame>> e = new LinkedHashMap<>();
        e.put("hello", List.of(new Frame.Hello(1, 1, 0, 0, "tern-java", "0.1.0", "", NONE)));
        e.put("welcome", List.of(new Frame.Welcome(1, 1 << 20, 256, 64, 10_000, 30_000, 90_000, 0, "srv-1", "0.1.0",
                NONE)));
        e.put("auth", List.of(new Frame.Auth(utf8("c=biws,r=c1n0nce,p=dGVybg=="))));
        e.put("challenge", List.of(new Frame.Challenge(utf8("r=c1n0nce,s=c2FsdA==,i=4096"))));
        e.put("ping", List.of(new Frame.Ping(42)));
        e.put("pong", List.of(new Frame.Pong(42)));
        e.put("goaway", List.of(new Frame.GoAway(ErrorCode.SERVER_SHUTDOWN.code(), 30_000, "shutting down")));
        e.put("error", List.of(new Frame.Error(7, ErrorCode.BAD_SUBJECT.code(), false,
                "subject has an empty token at byte 7")));
        e.put("error-closing", List.of(new Frame.Error(0, ErrorCode.UNEXPECTED_FRAME.code(), true, "HELLO expected")));
        e.put("ok", List.of(new Frame.Ok(7)));
        e.put("pub", List.of(new Frame.Pub(7, true, "orders.eu", null, Map.of(), utf8("42"))));
        e.put("pub-request", List.of(new Frame.Pub(8, false, "time.now", "_INBOX.k3.1", Map.of("trace", "ab12"),
                utf8("utc"))));
        e.put("sub", List.of(new Frame.Sub(1, false, "orders.*", null, SlowConsumerPolicy.DROP_OLDEST, 0)));
        e.put("sub-queue", List.of(new Frame.Sub(2, true, "jobs.>", "workers", SlowConsumerPolicy.DISCONNECT, 1000)));
        e.put("unsub", List.of(new Frame.Unsub(2, false, 5)));
        e.put("msg", List.of(new Frame.Msg(1, false, "orders.eu", null, Map.of(), utf8("42"))));
        e.put("msg-request", List.of(new Frame.Msg(3, false, "time.now", "_INBOX.k3.1", Map.of("trace", "ab12"),
                utf8("utc"))));
        e.put("msg-no-responders", List.of(new Frame.Msg(9, true, "_INBOX.k3.2", null, Map.of(), NONE)));
        e.put("dropped", List.of(new Frame.Dropped(1, 17)));
        QueueSpec spec = new QueueSpec(true, false, false, 0, 0, 0, 30_000, 0, 0, 5, "orders.dlq", List.of("orders.*"));
        long token = (3L << 44) | 5;
        e.put("qdeclare", List.of(new Frame.QDeclare(1, "orders", spec)));
        e.put("qdelete", List.of(new Frame.QDelete(2, "orders")));
        e.put("qpurge", List.of(new Frame.QPurge(3, "orders")));
        e.put("qlist", List.of(new Frame.QList(4, "")));
        e.put("qinfo", List.of(new Frame.QInfo(1, "orders", spec, 2, 4, 1, 1, 3, 1, 0, 0, 0, 0, 0, "")));
        e.put("qredrive", List.of(new Frame.QRedrive(5, "orders.dlq", "")));
        e.put("send", List.of(new Frame.Send(0x8000_0001, true, "orders", Map.of(), utf8("42"))));
        e.put("confirm", List.of(new Frame.Confirm(0x8000_0001, 17, true)));
        e.put("consume", List.of(new Frame.Consume(1, true, "orders", 256, false)));
        e.put("cancel", List.of(new Frame.Cancel(1, true)));
        e.put("deliver", List.of(new Frame.Deliver(1, token, 17, 1, null, 0, 0, "orders", Map.of(), utf8("42"))));
        e.put("deliver-dead-letter", List.of(new Frame.Deliver(2, token + 1, 0, 1, "orders", 2, 3, "orders", Map.of(),
                utf8("42"))));
        e.put("ack", List.of(new Frame.Ack(1, new long[] {token, token + 2})));
        e.put("nack", List.of(new Frame.Nack(1, token, 5000)));
        e.put("reject", List.of(new Frame.Reject(1, token)));
        e.put("count", List.of(new Frame.Count(3, 2)));
        e.put("qbind", List.of(new Frame.QBind(6, false, "orders", "orders.*.created")));
        e.put("qbind-unbind", List.of(new Frame.QBind(7, true, "orders", "orders.*.created")));
        return e;
    }

    // ---- hex dumps -------------------------------------------------------------------------------

    @Test
    void everyHexDumpDecodesToTheFrameItsNameSays() {
        Map<String, byte[]> blocks = hexBlocks();
        assertThat(blocks).isNotEmpty();
        for (Map.Entry<String, byte[]> block : blocks.entrySet()) {
            String name = block.getKey();
            byte[] bytes = block.getValue();
            if (name.equals("preface")) {
                assertThat(bytes).as("preface").isEqualTo(Frame.PREFACE);
                continue;
            }
            assertThat(EXAMPLES).as("hex block '" + name + "' has no expected frame in this test").containsKey(name);
            List<Frame> decoded = Frames.decodeAll(bytes);
            assertThat(decoded).as("hex block '" + name + "'").containsExactlyElementsOf(EXAMPLES.get(name));
            assertThat(TestFrames.bytes(decoded)).as("re-encoding hex block '" + name + "'").isEqualTo(bytes);
            String typeName = name.split("-")[0].toUpperCase(Locale.ROOT);
            assertThat(decoded.get(0).type().name()).as("hex block '" + name + "' is named after its type")
                    .isEqualTo(typeName);
        }
        Set<String> expected = new TreeSet<>(EXAMPLES.keySet());
        expected.add("preface");
        assertThat(new TreeSet<>(blocks.keySet())).as("hex blocks in the document").isEqualTo(expected);
    }

    @Test
    void everyHexDumpSitsInItsFramesSection() {
        Matcher m = HEX_BLOCK.matcher(doc);
        while (m.find()) {
            String name = m.group(1);
            if (name.equals("preface")) {
                assertThat(headingBefore(m.start())).startsWith("3.");
                continue;
            }
            FrameType type = EXAMPLES.get(name).get(0).type();
            assertThat(headingBefore(m.start())).as("section of hex block '" + name + "'")
                    .endsWith(" " + type.name() + " (0x" + String.format("%02X", type.code()) + ")");
        }
    }

    @Test
    void everyFrameTypeHasASectionWithADump() {
        Set<FrameType> dumped = EnumSet.noneOf(FrameType.class);
        EXAMPLES.values().forEach(frames -> frames.forEach(f -> dumped.add(f.type())));
        for (FrameType type : FrameType.values()) {
            String heading = " " + type.name() + " (0x" + String.format("%02X", type.code()) + ")";
            assertThat(headings()).as("a '### 6.x" + heading + "' section").anyMatch(h -> h.endsWith(heading));
            assertThat(dumped).as("a hex dump of " + type).contains(type);
        }
    }

    @Test
    void msgExamplesCarryThePubBodyUnchanged() {
        Map<String, byte[]> blocks = hexBlocks();
        assertThat(body(blocks.get("msg"))).isEqualTo(body(blocks.get("pub")));
        assertThat(body(blocks.get("msg-request"))).isEqualTo(body(blocks.get("pub-request")));
    }

    // ---- tables ----------------------------------------------------------------------------------

    @Test
    void errorCodeTableEqualsErrorCode() {
        List<List<String>> rows = tableAfter("## 12. Error codes", "Code");
        List<String> documented = rows.stream()
                .map(r -> r.get(0) + " " + r.get(1) + " closes=" + r.get(2) + " retriable=" + r.get(3))
                .collect(Collectors.toList());
        List<String> actual = Arrays.stream(ErrorCode.values())
                .map(e -> e.code() + " " + e.name() + " closes=" + yesNo(e.closesConnection())
                        + " retriable=" + yesNo(e.retriable()))
                .collect(Collectors.toList());
        assertThat(documented).containsExactlyElementsOf(actual);
        for (List<String> row : rows) {
            assertThat(row.get(4)).as("meaning of " + row.get(1)).isNotBlank();
        }
    }

    @Test
    void frameTypeTableEqualsFrameType() {
        List<String> documented = tableAfter("### 4.2 Frame types", "Code").stream()
                .map(r -> r.get(0).replace("`", "") + " " + r.get(1) + " " + r.get(2))
                .collect(Collectors.toList());
        List<String> actual = Arrays.stream(FrameType.values())
                .map(t -> String.format("0x%02x", t.code()) + " " + t.name() + " "
                        + t.direction().name().toLowerCase(Locale.ROOT))
                .collect(Collectors.toList());
        assertThat(documented).containsExactlyElementsOf(actual);
    }

    @Test
    void flagTableEqualsFlags() throws ReflectiveOperationException {
        int defined = 0;
        for (List<String> row : tableAfter("### 4.3 Flags", "Bit")) {
            if (row.get(1).isEmpty()) {
                continue; // the row for undefined bits
            }
            int bit = Integer.decode(row.get(0).replace("`", ""));
            assertThat(Flags.class.getField(row.get(1)).getInt(null)).as(row.get(1)).isEqualTo(bit);
            Set<String> types = Arrays.stream(row.get(2).split(",")).map(String::trim).collect(Collectors.toSet());
            Set<String> allowedIn = Arrays.stream(FrameType.values()).filter(t -> (Flags.allowed(t) & bit) != 0)
                    .map(FrameType::name).collect(Collectors.toSet());
            assertThat(types).as("types of flag " + row.get(1)).isEqualTo(allowedIn);
            defined |= bit;
        }
        int allowedAnywhere = 0;
        for (FrameType t : FrameType.values()) {
            allowedAnywhere |= Flags.allowed(t);
        }
        assertThat(defined).isEqualTo(allowedAnywhere);
    }

    @Test
    void limitsTableEqualsLimitsDefault() throws ReflectiveOperationException {
        Map<String, String> documented = new LinkedHashMap<>();
        for (List<String> row : tableAfter("## 11. Limits", "Limit")) {
            documented.put(row.get(0), row.get(1));
        }
        List<String> components = new ArrayList<>();
        for (RecordComponent c : Limits.class.getRecordComponents()) {
            components.add(c.getName());
            assertThat(documented).as("limits table row for " + c.getName()).containsKey(c.getName());
            Object value = c.getAccessor().invoke(Limits.DEFAULT);
            long expected = value instanceof Duration d ? d.toMillis() : ((Number) value).longValue();
            String cell = documented.get(c.getName());
            Matcher number = Pattern.compile("^(\\d+)").matcher(cell);
            assertThat(number.find()).as("default of " + c.getName() + " starts with a number: " + cell).isTrue();
            assertThat(Long.parseLong(number.group(1))).as("default of " + c.getName()).isEqualTo(expected);
            if (value instanceof Duration) {
                assertThat(cell).as(c.getName()).endsWith(" ms");
            }
        }
        assertThat(documented.keySet()).containsExactlyElementsOf(components);
        assertThat(doc).contains("| " + Limits.ABSOLUTE_MAX_FRAME_BYTES + " (64 MiB) |");
    }

    @Test
    void prefaceAndHeaderConstantsMatchTheText() {
        assertThat(doc).contains("| 0 | 4 | `u32` | length |", "| 4 | 1 | `u8` | type |", "| 5 | 1 | `u8` | flags |",
                "| 6 | 2 | `u16` | reserved |", "| 8 | 4 | `u32` | id |", "| 12 | length - 8 | | body |");
        assertThat(Frame.TYPE_OFFSET).isEqualTo(4);
        assertThat(Frame.FLAGS_OFFSET).isEqualTo(5);
        assertThat(Frame.RESERVED_OFFSET).isEqualTo(6);
        assertThat(Frame.ID_OFFSET).isEqualTo(8);
        assertThat(Frame.BODY_OFFSET).isEqualTo(12);
        assertThat(doc).contains("# The Tern wire protocol, version " + Frame.VERSION);
    }

    // ---- parsing ---------------------------------------------------------------------------------

    private static Map<String, byte[]> hexBlocks() {
        Map<String, byte[]> blocks = new LinkedHashMap<>();
        Matcher m = HEX_BLOCK.matcher(doc);
        while (m.find()) {
            String name = m.group(1);
            if (blocks.put(name, parseHex(name, m.group(2))) != null) {
                fail("hex block name '" + name + "' used twice");
            }
        }
        return blocks;
    }

    static byte[] parseHex(String name, String text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String line : text.split("\n")) {
            int comment = line.indexOf('#');
            String data = (comment >= 0 ? line.substring(0, comment) : line).trim();
            if (data.isEmpty()) {
                continue;
            }
            for (String token : data.split("\\s+")) {
                if (!token.matches("[0-9a-fA-F]{2}")) {
                    fail("hex block '" + name + "': '" + token + "' is not one byte in hex, in line: " + line);
                }
                out.write(Integer.parseInt(token, 16));
            }
        }
        return out.toByteArray();
    }

    private static List<String> headings() {
        List<String> headings = new ArrayList<>();
        Matcher m = HEADING.matcher(doc);
        while (m.find()) {
            headings.add(m.group(2).trim());
        }
        return headings;
    }

    private static String headingBefore(int offset) {
        Matcher m = HEADING.matcher(doc);
        String last = "";
        while (m.find() && m.start() < offset) {
            last = m.group(2).trim();
        }
        return last;
    }

    /** Rows (cells trimmed) of the first table after the heading whose first header cell is firstColumn. */
    private static List<List<String>> tableAfter(String heading, String firstColumn) {
        int at = doc.indexOf("\n" + heading + "\n");
        assertThat(at).as("heading '" + heading + "'").isNotNegative();
        int start = doc.indexOf("\n| " + firstColumn + " |", at);
        assertThat(start).as("table after '" + heading + "'").isNotNegative();
        List<List<String>> rows = new ArrayList<>();
        String[] lines = doc.substring(start + 1).split("\n");
        for (int i = 2; i < lines.length && lines[i].startsWith("|"); i++) { // skip header and separator
            String line = lines[i].trim();
            List<String> cells = Arrays.stream(line.substring(1, line.length() - 1).split("\\|", -1))
                    .map(String::trim).collect(Collectors.toList());
            rows.add(cells);
        }
        assertThat(rows).as("rows of the table after '" + heading + "'").isNotEmpty();
        return rows;
    }

    private static byte[] body(byte[] frame) {
        return Arrays.copyOfRange(frame, Frame.BODY_OFFSET, frame.length);
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    private static Path findDoc() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("docs").resolve("protocol.md");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new UncheckedIOException(new IOException("docs/protocol.md not found above " + Path.of("").toAbsolutePath()));
    }
}
