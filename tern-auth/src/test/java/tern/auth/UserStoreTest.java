package tern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tern.protocol.auth.Scram;

class UserStoreTest {
    static final SecureRandom RANDOM = new SecureRandom();

    @Test
    @Timeout(20)
    void savesAndLoadsEveryField(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("users");
        UserStore store = UserStore.empty()
                .add("alice", "pw", Set.of(Role.PRODUCER, Role.CONSUMER), 4096, RANDOM);
        store = store.put(store.user("alice").orElseThrow().withToken("tern_abc")
                .withPublish(Rules.parse("orders.>,-orders.secret"))
                .withQueue(QueueOperation.DELETE, Rules.parse("tmp.*")));
        store.save(file);
        UserStore loaded = UserStore.load(file);
        assertThat(loaded.users()).isEqualTo(store.users());
        assertThat(loaded.format()).isEqualTo(store.format());
        assertThat(loaded.fakeSaltKey()).isEqualTo(store.fakeSaltKey());
        String text = Files.readString(file);
        assertThat(text).doesNotContain("pw ").doesNotContain("tern_abc");
        assertThat(text).contains("alice  scram-sha-256=4096:").contains("roles=producer,consumer")
                .contains("publish=orders.>,-orders.secret").contains("queue-delete=tmp.*").contains("token-sha256=");
    }

    @Test
    @Timeout(20)
    void saveIsOwnerOnlyAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("users");
        UserStore.empty().add("a", "pw", Set.of(), 4096, RANDOM).save(file);
        UserStore.load(file).add("b", "pw", Set.of(), 4096, RANDOM).save(file);
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            assertThat(UserStore.modeWarning(file)).isEmpty();
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            assertThat(UserStore.modeWarning(file)).get().asString().contains("rw-r--r--");
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("users");
        }
        assertThat(UserStore.load(file).users()).extracting(User::name).containsExactly("a", "b");
    }

    @Test
    @Timeout(20)
    void failedSaveLeavesTheOldFileIntact(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("users");
        UserStore.empty().add("a", "pw", Set.of(), 4096, RANDOM).save(file);
        String before = Files.readString(file);
        // A directory where the file should be makes the rename fail after the temporary file is written.
        Path blocked = dir.resolve("blocked");
        Files.createDirectory(blocked);
        Files.writeString(blocked.resolve("x"), "keeps the directory non-empty");
        assertThatThrownBy(() -> UserStore.empty().save(blocked)).isInstanceOf(java.io.IOException.class);
        assertThat(Files.readString(file)).isEqualTo(before);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("users", "blocked");
        }
    }

    @Test
    @Timeout(20)
    void addRemovePasswdAndList() throws Exception {
        UserStore s = UserStore.empty().add("alice", "one", Set.of(Role.ADMIN));
        assertThat(s.user("alice").orElseThrow().scram().iterations()).isEqualTo(UserStore.DEFAULT_ITERATIONS);
        assertThatThrownBy(() -> UserStore.empty().add("alice", "x", Set.of()).add("alice", "y", Set.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already exists");
        ScramCredential old = s.user("alice").orElseThrow().scram();
        UserStore changed = s.changePassword("alice", "two");
        ScramCredential fresh = changed.user("alice").orElseThrow().scram();
        assertThat(fresh).isNotEqualTo(old);
        assertThat(fresh.salt()).isNotEqualTo(old.salt());
        assertThat(ScramServerTest.exchange(changed, "alice", "two")).isNull();
        assertThat(ScramServerTest.exchange(changed, "alice", "one")).isNotNull();
        assertThat(changed.user("alice").orElseThrow().roles()).containsExactly(Role.ADMIN);
        assertThatThrownBy(() -> s.changePassword("bob", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThat(s.remove("alice").users()).isEmpty();
        assertThatThrownBy(() -> s.remove("bob")).isInstanceOf(IllegalArgumentException.class);

        UserStore listed = s.put(s.user("alice").orElseThrow().withToken("tern_secret_token"));
        String ls = String.join("\n", listed.describe());
        assertThat(ls).contains("alice").contains("password(scram-sha-256, 10000 iterations)").contains("token")
                .contains("roles=admin");
        ScramCredential c = listed.user("alice").orElseThrow().scram();
        assertThat(ls).doesNotContain(Scram.base64(c.salt())).doesNotContain(Scram.base64(c.storedKey()))
                .doesNotContain(Scram.base64(c.serverKey())).doesNotContain("tern_secret_token")
                .doesNotContain(java.util.HexFormat.of().formatHex(User.hashToken(
                        "tern_secret_token".getBytes(StandardCharsets.UTF_8))));
        assertThat(listed.user("alice").orElseThrow().toString()).doesNotContain(Scram.base64(c.storedKey()));
    }

    @Test
    @Timeout(20)
    void refusesFewerThan4096Iterations() {
        assertThatThrownBy(() -> UserStore.empty().add("a", "pw", Set.of(), 4095, RANDOM))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4095");
        String line = "a scram-sha-256=4095:AAAA:" + Scram.base64(new byte[32]) + ":" + Scram.base64(new byte[32]);
        assertThatThrownBy(() -> UserStore.parse(line, "users")).isInstanceOf(UsersFileException.class)
                .hasMessageContaining("users:1:").hasMessageContaining("4095");
    }

    @Test
    @Timeout(20)
    void reportsTheLineOfEachKindOfError() {
        String good = "# comment\n\nok roles=admin\n";
        String[][] cases = {
            {"alice colour=blue", "unknown key 'colour'"},
            {"alice roles=king", "unknown role 'king'"},
            {"alice roles=admin,admin", "listed twice"},
            {"alice publish=a..b", "bad pattern"},
            {"alice publish=a roles=admin publish=b", "duplicate key 'publish'"},
            {"ok", "duplicate user 'ok'"},
            {"alice scram-sha-256=4096:AAAA", "expected <iterations>"},
            {"alice scram-sha-256=4096:!!!!:AAAA:AAAA", "salt is not valid base64"},
            {"alice scram-sha-256=4096:AAAA:AAAA:AAAA", "32 bytes"},
            {"alice token-sha256=abcd", "64 hex digits"},
            {"alice token-sha256=" + "zz".repeat(32), "not hex"},
            {"alice roles", "not key=value"},
            {"%colour=blue", "unknown directive"},
            {"%format=2", "format 2 not supported"},
            {"%fake-salt-key=AAAA", "fake-salt-key 3 bytes"},
            {"caf\u0065\u0301 roles=admin", "NFC"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> UserStore.parse(good + c[0] + "\n", "users.txt")).as(c[0])
                    .isInstanceOf(UsersFileException.class)
                    .hasMessageStartingWith("users.txt:4: ").hasMessageContaining(c[1])
                    .satisfies(e -> assertThat(((UsersFileException) e).line()).isEqualTo(4));
        }
    }

    @Test
    @Timeout(20)
    void refusesOversizedFilesAndLinesAndInvalidUtf8(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> UserStore.parse("a publish=" + "x".repeat(UserStore.MAX_LINE_CHARS), "u"))
                .isInstanceOf(UsersFileException.class).hasMessageContaining("> max " + UserStore.MAX_LINE_CHARS);
        Path bad = dir.resolve("bad");
        Files.write(bad, new byte[] {'a', ' ', (byte) 0xFF, '\n'});
        assertThatThrownBy(() -> UserStore.load(bad)).isInstanceOf(UsersFileException.class)
                .hasMessageContaining("UTF-8");
        Path big = dir.resolve("big");
        try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), UserStore.MAX_FILE_BYTES);
        }
        assertThatThrownBy(() -> UserStore.load(big)).isInstanceOf(UsersFileException.class)
                .hasMessageContaining("> max " + UserStore.MAX_FILE_BYTES);
    }

    @Test
    @Timeout(20)
    void tokenAuthenticationMatchesOnlyTheRightToken() {
        String token = UserStore.newToken(RANDOM);
        assertThat(token).startsWith("tern_").hasSize(5 + 43);
        UserStore s = UserStore.empty().put(User.named("bot").withToken(token).withRoles(Set.of(Role.PRODUCER)))
                .put(User.named("other").withToken(UserStore.newToken(RANDOM)))
                .put(User.named("none"));
        assertThat(s.authenticateToken(token.getBytes(StandardCharsets.UTF_8))).get()
                .extracting(User::name).isEqualTo("bot");
        assertThat(s.authenticateToken((token + "x").getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(s.authenticateToken(new byte[0])).isEmpty();
        assertThat(s.authenticateToken(null)).isEmpty();
        assertThat(s.authenticateToken(new byte[tern.protocol.auth.AuthMechanism.MAX_TOKEN_BYTES + 1])).isEmpty();
        assertThat(User.named("x").withToken(token).tokenSha256())
                .isEqualTo(Scram.sha256(token.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    @Timeout(20)
    void userNamesFollowTheRules() {
        assertThatThrownBy(() -> User.named("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> User.named("a b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> User.named("a\u0000")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> User.named("#a")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> User.named("x".repeat(256))).isInstanceOf(IllegalArgumentException.class);
        assertThat(User.named("a=b,c").name()).isEqualTo("a=b,c");
        assertThat(User.named("caf\u00e9").name()).isEqualTo("caf\u00e9");
    }
}
