package tern.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import tern.protocol.auth.Scram;

/**
 * One users-file entry: a name, optional credentials (SCRAM verifier, SHA-256 of a bearer token),
 * roles and the user's own permission lists. Immutable; the {@code with*} methods return copies.
 */
public final class User {
    private final String name;
    private final ScramCredential scram;
    private final byte[] tokenSha256;
    private final Set<Role> roles;
    private final Rules publish;
    private final Rules subscribe;
    private final Map<QueueOperation, Rules> queues;
    private final Permissions permissions;

    private User(String name, ScramCredential scram, byte[] tokenSha256, Set<Role> roles, Rules publish,
                 Rules subscribe, Map<QueueOperation, Rules> queues) {
        checkName(name);
        if (tokenSha256 != null && tokenSha256.length != Scram.KEY_BYTES) {
            throw new IllegalArgumentException("token-sha256 must be " + Scram.KEY_BYTES + " bytes");
        }
        this.name = name;
        this.scram = scram;
        this.tokenSha256 = tokenSha256 == null ? null : tokenSha256.clone();
        this.roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
        this.publish = Objects.requireNonNull(publish);
        this.subscribe = Objects.requireNonNull(subscribe);
        EnumMap<QueueOperation, Rules> q = new EnumMap<>(QueueOperation.class);
        queues.forEach((op, r) -> {
            if (!r.isEmpty()) {
                q.put(op, r);
            }
        });
        this.queues = Map.copyOf(q);
        this.permissions = Permissions.of(this.roles, publish, subscribe, this.queues);
    }

    /** A user with no credentials, roles or lists (may neither log in nor do anything). */
    public static User named(String name) {
        return new User(name, null, null, Set.of(), Rules.NONE, Rules.NONE, Map.of());
    }

    /**
     * Name rules: 1..{@link Scram#MAX_USERNAME_BYTES} bytes of UTF-8, already in Unicode NFC, no
     * whitespace or control characters, not starting with '#' or '%'.
     *
     * @throws IllegalArgumentException naming the broken rule
     */
    public static void checkName(String name) {
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > Scram.MAX_USERNAME_BYTES) {
            throw new IllegalArgumentException("user name " + bytes + " bytes outside 1.." + Scram.MAX_USERNAME_BYTES);
        }
        if (name.startsWith("#") || name.startsWith("%")) {
            throw new IllegalArgumentException("user name may not start with '#' or '%'");
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)
                    || Character.getType(cp) == Character.SURROGATE) {
                throw new IllegalArgumentException("user name has a space, control or lone surrogate character at " + i);
            }
            i += Character.charCount(cp);
        }
        if (!Normalizer.isNormalized(name, Normalizer.Form.NFC)) {
            throw new IllegalArgumentException("user name is not in Unicode NFC");
        }
    }

    public String name() {
        return name;
    }

    /** The SCRAM verifier, or null when the user has no password. */
    public ScramCredential scram() {
        return scram;
    }

    /** SHA-256 of the user's bearer token, or null when the user has none. */
    public byte[] tokenSha256() {
        return tokenSha256 == null ? null : tokenSha256.clone();
    }

    boolean tokenMatches(byte[] hash) {
        return tokenSha256 != null && Scram.constantTimeEquals(tokenSha256, hash);
    }

    public Set<Role> roles() {
        return roles;
    }

    public Rules publish() {
        return publish;
    }

    public Rules subscribe() {
        return subscribe;
    }

    /** The user's own list for op (without roles), possibly empty. */
    public Rules queue(QueueOperation op) {
        return queues.getOrDefault(op, Rules.NONE);
    }

    /** Roles plus lists, compiled. */
    public Permissions permissions() {
        return permissions;
    }

    public User withScram(ScramCredential credential) {
        return new User(name, credential, tokenSha256, roles, publish, subscribe, queues);
    }

    /** A new SCRAM verifier for password with a fresh salt. */
    public User withPassword(String password, int iterations, SecureRandom random) {
        return withScram(ScramCredential.generate(password, iterations, random));
    }

    /** Stores SHA-256(token's UTF-8); null removes the token. */
    public User withToken(String token) {
        return new User(name, scram, token == null ? null : hashToken(token.getBytes(StandardCharsets.UTF_8)),
                roles, publish, subscribe, queues);
    }

    User withTokenHash(byte[] hash) {
        return new User(name, scram, hash, roles, publish, subscribe, queues);
    }

    public User withRoles(Set<Role> newRoles) {
        return new User(name, scram, tokenSha256, newRoles, publish, subscribe, queues);
    }

    public User withPublish(Rules rules) {
        return new User(name, scram, tokenSha256, roles, rules, subscribe, queues);
    }

    public User withSubscribe(Rules rules) {
        return new User(name, scram, tokenSha256, roles, publish, rules, queues);
    }

    public User withQueue(QueueOperation op, Rules rules) {
        EnumMap<QueueOperation, Rules> q = new EnumMap<>(QueueOperation.class);
        q.putAll(queues);
        q.put(op, rules);
        return new User(name, scram, tokenSha256, roles, publish, subscribe, q);
    }

    static byte[] hashToken(byte[] token) {
        return Scram.sha256(token);
    }

    /** The users-file line (holds verifiers: secret). */
    String format() {
        StringBuilder sb = new StringBuilder(name);
        if (scram != null) {
            sb.append("  scram-sha-256=").append(scram.format());
        }
        if (tokenSha256 != null) {
            sb.append("  token-sha256=").append(HexFormat.of().formatHex(tokenSha256));
        }
        if (!roles.isEmpty()) {
            sb.append("  roles=").append(roleList());
        }
        appendRules(sb, "publish", publish);
        appendRules(sb, "subscribe", subscribe);
        for (QueueOperation op : QueueOperation.values()) {
            appendRules(sb, op.key(), queue(op));
        }
        return sb.toString();
    }

    /** One line for {@code tern user ls}: never secrets (no salt, keys or token hash). */
    public String describe() {
        StringBuilder sb = new StringBuilder(name);
        sb.append(scram != null ? "  password(scram-sha-256, " + scram.iterations() + " iterations)" : "  no-password");
        sb.append(tokenSha256 != null ? "  token" : "  no-token");
        sb.append("  roles=").append(roles.isEmpty() ? "-" : roleList());
        appendRules(sb, "publish", publish);
        appendRules(sb, "subscribe", subscribe);
        for (QueueOperation op : QueueOperation.values()) {
            appendRules(sb, op.key(), queue(op));
        }
        return sb.toString();
    }

    private String roleList() {
        return roles.stream().sorted().map(Role::key).collect(Collectors.joining(","));
    }

    private static void appendRules(StringBuilder sb, String key, Rules rules) {
        if (!rules.isEmpty()) {
            sb.append("  ").append(key).append('=').append(rules.format());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof User u && format().equals(u.format());
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    /** Never prints secrets. */
    @Override
    public String toString() {
        return "User[" + describe() + "]";
    }
}
