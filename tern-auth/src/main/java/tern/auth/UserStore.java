package tern.auth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import tern.protocol.auth.AuthMechanism;
import tern.protocol.auth.Scram;

/**
 * The users file (docs/security.md, "Users file"): one line per user, no plaintext secrets.
 * Immutable: {@link #add}, {@link #remove}, {@link #changePassword} and {@link #put} return a new
 * store, {@link #save} writes it atomically. Thread-safe.
 *
 * <pre>
 * # comment
 * %format=1
 * %fake-salt-key=&lt;32 bytes, base64&gt;
 * alice  scram-sha-256=10000:&lt;salt&gt;:&lt;StoredKey&gt;:&lt;ServerKey&gt;  roles=producer,consumer  publish=orders.&gt;,-orders.secret
 * </pre>
 */
public final class UserStore {
    /** PBKDF2 iterations for new passwords: above RFC 7677's 4096 floor, about 4 ms per login on a laptop. */
    public static final int DEFAULT_ITERATIONS = 10_000;
    public static final int MAX_USERS = 10_000;
    /** Checked before reading. */
    public static final long MAX_FILE_BYTES = 16L << 20;
    public static final int MAX_LINE_CHARS = 64 << 10;
    public static final int FORMAT = 1;
    /** Bytes of the key that derives fake salts for unknown users. */
    public static final int FAKE_SALT_KEY_BYTES = 32;

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final Map<String, User> users;
    private final byte[] fakeSaltKey;
    private final int fakeIterations;

    private UserStore(Map<String, User> users, byte[] fakeSaltKey) {
        this.users = Collections.unmodifiableMap(new TreeMap<>(users));
        this.fakeSaltKey = fakeSaltKey.clone();
        this.fakeIterations = commonIterations(users.values());
    }

    /** An empty store with a fresh random fake-salt key (written by {@link #save}). */
    public static UserStore empty() {
        return new UserStore(Map.of(), randomKey(new SecureRandom()));
    }

    /**
     * Reads a users file: size checked before reading, strict UTF-8.
     *
     * @throws UsersFileException with the line number of the first error
     */
    public static UserStore load(Path file) throws IOException, UsersFileException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new UsersFileException(file.toString(), 0, "file " + size + " bytes > max " + MAX_FILE_BYTES);
        }
        byte[] bytes = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new UsersFileException(file.toString(), 0, "file is not valid UTF-8");
        }
        return parse(text, file.toString());
    }

    /**
     * Parses users-file text; source names it in errors. Unknown keys, duplicate keys or users, bad
     * patterns, roles or credentials are errors. A file without {@code %fake-salt-key} gets a random
     * key for this process (unknown users' fake salts then change at restart: save the file to fix).
     *
     * @throws UsersFileException with the line number of the first error
     */
    public static UserStore parse(String text, String source) throws UsersFileException {
        Map<String, User> users = new HashMap<>();
        byte[] key = null;
        String[] lines = text.split("\n", -1);
        for (int n = 1; n <= lines.length; n++) {
            String line = lines[n - 1];
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.length() > MAX_LINE_CHARS) {
                throw new UsersFileException(source, n, "line " + line.length() + " chars > max " + MAX_LINE_CHARS);
            }
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            try {
                if (trimmed.startsWith("%")) {
                    byte[] k = directive(trimmed);
                    if (k != null) {
                        if (key != null) {
                            throw new IllegalArgumentException("duplicate %fake-salt-key");
                        }
                        key = k;
                    }
                    continue;
                }
                User u = parseUser(trimmed);
                if (users.containsKey(u.name())) {
                    throw new IllegalArgumentException("duplicate user '" + u.name() + "'");
                }
                if (users.size() == MAX_USERS) {
                    throw new IllegalArgumentException("more than " + MAX_USERS + " users");
                }
                users.put(u.name(), u);
            } catch (IllegalArgumentException e) {
                throw new UsersFileException(source, n, e.getMessage());
            }
        }
        return new UserStore(users, key != null ? key : randomKey(new SecureRandom()));
    }

    private static byte[] directive(String line) {
        int eq = line.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException("directive '" + abbreviate(line) + "' lacks '='");
        }
        String k = line.substring(1, eq);
        String v = line.substring(eq + 1);
        switch (k) {
            case "format" -> {
                if (!v.equals(Integer.toString(FORMAT))) {
                    throw new IllegalArgumentException("format " + abbreviate(v) + " not supported (only " + FORMAT + ")");
                }
                return null;
            }
            case "fake-salt-key" -> {
                byte[] key;
                try {
                    key = Base64.getDecoder().decode(v);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("fake-salt-key is not valid base64");
                }
                if (key.length != FAKE_SALT_KEY_BYTES) {
                    throw new IllegalArgumentException("fake-salt-key " + key.length + " bytes, expected "
                            + FAKE_SALT_KEY_BYTES);
                }
                return key;
            }
            default -> throw new IllegalArgumentException("unknown directive '%" + abbreviate(k)
                    + "' (known: %format, %fake-salt-key)");
        }
    }

    private static User parseUser(String line) {
        String[] fields = line.split("[ \t]+");
        User u = User.named(fields[0]);
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < fields.length; i++) {
            String f = fields[i];
            int eq = f.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("field '" + abbreviate(f) + "' is not key=value");
            }
            String k = f.substring(0, eq);
            String v = f.substring(eq + 1);
            if (!seen.add(k)) {
                throw new IllegalArgumentException("duplicate key '" + abbreviate(k) + "'");
            }
            u = switch (k) {
                case "scram-sha-256" -> u.withScram(ScramCredential.parse(v));
                case "token-sha256" -> u.withTokenHash(hex(v));
                case "roles" -> u.withRoles(roles(v));
                case "publish" -> u.withPublish(Rules.parse(v));
                case "subscribe" -> u.withSubscribe(Rules.parse(v));
                default -> {
                    QueueOperation op = queueOperation(k);
                    yield u.withQueue(op, Rules.parse(v));
                }
            };
        }
        return u;
    }

    private static QueueOperation queueOperation(String key) {
        for (QueueOperation op : QueueOperation.values()) {
            if (op.key().equals(key)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown key '" + abbreviate(key) + "' (known: scram-sha-256, token-sha256,"
                + " roles, publish, subscribe, queue-declare, queue-delete, queue-send, queue-consume)");
    }

    private static byte[] hex(String v) {
        if (v.length() != 2 * Scram.KEY_BYTES) {
            throw new IllegalArgumentException("token-sha256 must be " + 2 * Scram.KEY_BYTES + " hex digits");
        }
        try {
            return HexFormat.of().parseHex(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("token-sha256 is not hex");
        }
    }

    private static Set<Role> roles(String v) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String r : v.split(",", -1)) {
            if (!roles.add(Role.parse(r))) {
                throw new IllegalArgumentException("role '" + r + "' listed twice");
            }
        }
        return roles;
    }

    /** The user, if present. */
    public Optional<User> user(String name) {
        return Optional.ofNullable(users.get(name));
    }

    /** All users sorted by name. */
    public List<User> users() {
        return List.copyOf(users.values());
    }

    /** Adds or replaces the user. */
    public UserStore put(User user) {
        Map<String, User> m = new HashMap<>(users);
        if (!m.containsKey(user.name()) && m.size() == MAX_USERS) {
            throw new IllegalArgumentException("more than " + MAX_USERS + " users");
        }
        m.put(user.name(), user);
        return new UserStore(m, fakeSaltKey);
    }

    /**
     * {@code tern user add}: a new user with a SCRAM verifier ({@link #DEFAULT_ITERATIONS}) and roles.
     *
     * @throws IllegalArgumentException if the user exists or the name is invalid
     */
    public UserStore add(String name, String password, Set<Role> roles) {
        return add(name, password, roles, DEFAULT_ITERATIONS, new SecureRandom());
    }

    public UserStore add(String name, String password, Set<Role> roles, int iterations, SecureRandom random) {
        if (users.containsKey(name)) {
            throw new IllegalArgumentException("user '" + name + "' already exists");
        }
        return put(User.named(name).withRoles(roles).withPassword(password, iterations, random));
    }

    /**
     * {@code tern user rm}.
     *
     * @throws IllegalArgumentException if there is no such user
     */
    public UserStore remove(String name) {
        if (!users.containsKey(name)) {
            throw new IllegalArgumentException("no user '" + name + "'");
        }
        Map<String, User> m = new HashMap<>(users);
        m.remove(name);
        return new UserStore(m, fakeSaltKey);
    }

    /**
     * {@code tern user passwd}: a fresh salt and verifier, keeping the user's iteration count when it is
     * higher than the default.
     *
     * @throws IllegalArgumentException if there is no such user
     */
    public UserStore changePassword(String name, String password) {
        User u = user(name).orElseThrow(() -> new IllegalArgumentException("no user '" + name + "'"));
        int iterations = u.scram() == null ? DEFAULT_ITERATIONS : Math.max(DEFAULT_ITERATIONS, u.scram().iterations());
        return put(u.withPassword(password, iterations, new SecureRandom()));
    }

    /** {@code tern user ls}: one line per user, no secrets. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (User u : users.values()) {
            out.add(u.describe());
        }
        return out;
    }

    /**
     * TOKEN mechanism: the user whose stored SHA-256 equals the token's. Every user's hash is compared
     * in constant time, with no early exit. Empty or over-long tokens match nobody.
     */
    public Optional<User> authenticateToken(byte[] token) {
        if (token == null || token.length == 0 || token.length > AuthMechanism.MAX_TOKEN_BYTES) {
            return Optional.empty();
        }
        byte[] hash = User.hashToken(token);
        User found = null;
        for (User u : users.values()) {
            if (u.tokenMatches(hash) && found == null) {
                found = u;
            }
        }
        return Optional.ofNullable(found);
    }

    /** A fresh bearer token to hand to a user once (store only {@link User#withToken}'s hash). */
    public static String newToken(SecureRandom random) {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return "tern_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    byte[] fakeSaltKey() {
        return fakeSaltKey.clone();
    }

    /** The iteration count most users have (ties: the larger), else the default; unknown users get it. */
    int fakeIterations() {
        return fakeIterations;
    }

    private static int commonIterations(Iterable<User> users) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (User u : users) {
            if (u.scram() != null) {
                counts.merge(u.scram().iterations(), 1, Integer::sum);
            }
        }
        int best = DEFAULT_ITERATIONS;
        int bestCount = 0;
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() > best)) {
                best = e.getKey();
                bestCount = e.getValue();
            }
        }
        return best;
    }

    /** The file text {@link #save} writes. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Tern users file (docs/security.md). Written by `tern user`; comments are not kept.\n");
        sb.append("# Holds SCRAM verifiers and token hashes, no passwords, but keep it secret (mode 0600).\n");
        sb.append("%format=").append(FORMAT).append('\n');
        sb.append("%fake-salt-key=").append(Base64.getEncoder().encodeToString(fakeSaltKey)).append('\n');
        for (User u : users.values()) {
            sb.append(u.format()).append('\n');
        }
        return sb.toString();
    }

    /**
     * Atomic rewrite: writes a temporary file in the same directory (mode 0600 where POSIX), fsyncs
     * it, renames it over file, then fsyncs the directory. A crash leaves the old file or the new one,
     * never a mixture; a leftover temporary file is named {@code .<name>.tmp-*}.
     */
    public void save(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
        FileAttribute<?>[] attrs = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        Path tmp = null;
        SecureRandom random = new SecureRandom();
        for (int attempt = 0; tmp == null; attempt++) {
            Path candidate = dir.resolve("." + file.getFileName() + ".tmp-" + Long.toHexString(random.nextLong()));
            try {
                Files.createFile(candidate, attrs);
                tmp = candidate;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 9) {
                    throw e;
                }
            }
        }
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(format().getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot atomically replace " + file + " on this file system", e);
            }
            tmp = null;
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Some platforms cannot open or sync a directory; the rename itself is still atomic.
        }
    }

    /** A warning when the file is readable or writable by group or others (POSIX only), else empty. */
    public static Optional<String> modeWarning(Path file) throws IOException {
        if (!Files.getFileStore(file).supportsFileAttributeView("posix")) {
            return Optional.empty();
        }
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
        Set<PosixFilePermission> extra = EnumSet.noneOf(PosixFilePermission.class);
        extra.addAll(p);
        extra.removeAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        return extra.isEmpty() ? Optional.empty()
                : Optional.of(file + " has mode " + PosixFilePermissions.toString(p) + "; it should be rw------- (0600)");
    }

    private static byte[] randomKey(SecureRandom random) {
        byte[] k = new byte[FAKE_SALT_KEY_BYTES];
        random.nextBytes(k);
        return k;
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
