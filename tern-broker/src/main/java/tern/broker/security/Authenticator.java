package tern.broker.security;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tern.auth.LoginThrottle;
import tern.auth.UserStore;
import tern.auth.UsersFileException;

/**
 * The broker's authentication policy, shared by every connection: the users file (or none: the broker
 * runs open) and the per-address {@link LoginThrottle}. Each connection gets its own {@link Login}.
 * Thread-safe: the store is immutable and swapped whole by {@link #reload()}.
 *
 * <p>Reload: {@link #reload()} (SIGHUP for {@code tern broker}) re-reads the file. New logins use the new
 * store; connections already logged in keep the permissions they logged in with until they reconnect.
 * A file that fails to load leaves the old store in force.
 */
public final class Authenticator {
    private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

    private final Path usersFile;
    private final LoginThrottle throttle;
    private volatile UserStore store;

    private Authenticator(Path usersFile, UserStore store, LoginThrottle throttle) {
        this.usersFile = usersFile;
        this.store = store;
        this.throttle = Objects.requireNonNull(throttle);
    }

    /** No users file: every connection is admitted without authentication and may do anything. */
    public static Authenticator open() {
        return new Authenticator(null, null, new LoginThrottle());
    }

    /**
     * Loads the users file (null: {@link #open()}).
     *
     * @throws IllegalArgumentException naming the file (and line) when it cannot be read or parsed
     */
    public static Authenticator load(Path usersFile) {
        return load(usersFile, new LoginThrottle());
    }

    /** As {@link #load(Path)} with the given throttle (tests drive its clock). */
    public static Authenticator load(Path usersFile, LoginThrottle throttle) {
        if (usersFile == null) {
            return new Authenticator(null, null, throttle);
        }
        return new Authenticator(usersFile, read(usersFile), throttle);
    }

    private static UserStore read(Path usersFile) {
        try {
            return UserStore.load(usersFile);
        } catch (UsersFileException e) {
            throw new IllegalArgumentException("users file " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read users file " + usersFile + ": " + e, e);
        }
    }

    /** True when a users file is configured: every connection must authenticate. */
    public boolean required() {
        return usersFile != null;
    }

    /** The users file, or null when the broker runs open. */
    public Path usersFile() {
        return usersFile;
    }

    /** The current users, or empty when the broker runs open. */
    public Optional<UserStore> store() {
        return Optional.ofNullable(store);
    }

    public LoginThrottle throttle() {
        return throttle;
    }

    /** Logs how the broker authenticates: a WARN when it runs open or the file is readable by others. */
    public void logStartup() {
        if (usersFile == null) {
            log.warn("AUTHENTICATION IS OFF: no users file configured, so any client that can reach this port may "
                    + "publish and subscribe to every subject. Create users with `tern user add` and start the "
                    + "broker with --users FILE (config key users_file).");
            return;
        }
        log.info("authentication required: {} users from {} (mechanisms SCRAM-SHA-256, TOKEN)",
                store.users().size(), usersFile);
        modeWarning();
    }

    private void modeWarning() {
        try {
            UserStore.modeWarning(usersFile).ifPresent(w -> log.warn("users file {}: {}", usersFile, w));
        } catch (IOException | RuntimeException e) {
            log.debug("cannot check the mode of {}: {}", usersFile, e.toString());
        }
    }

    /**
     * Re-reads the users file. True when the new store is in force; false (logged as an ERROR, the old
     * store kept) when the file cannot be loaded, or when the broker runs open (nothing to reload).
     */
    public boolean reload() {
        if (usersFile == null) {
            log.info("reload requested, but no users file is configured: the broker stays open");
            return false;
        }
        UserStore next;
        try {
            next = read(usersFile);
        } catch (IllegalArgumentException e) {
            log.error("users file not reloaded, the previous one stays in force: {}", e.getMessage());
            return false;
        }
        store = next;
        log.info("users file {} reloaded: {} users (connections already logged in keep their permissions)",
                usersFile, next.users().size());
        modeWarning();
        return true;
    }

    /** A login for one connection from peer. */
    public Login newLogin(SocketAddress peer) {
        return new Login(this, peer, addressOf(peer), null);
    }

    /**
     * A login for one connection from peer whose TLS client certificate (verified against
     * tls_client_ca) has the subject common name certificateName (null: none).
     */
    public Login newLogin(SocketAddress peer, String certificateName) {
        return new Login(this, peer, addressOf(peer), certificateName);
    }

    UserStore currentStore() {
        return store;
    }

    /** The throttle's key: the IP address without the port (one attacker, many ports). */
    static String addressOf(SocketAddress peer) {
        if (peer instanceof InetSocketAddress a && a.getAddress() != null) {
            return a.getAddress().getHostAddress();
        }
        return String.valueOf(peer);
    }
}
