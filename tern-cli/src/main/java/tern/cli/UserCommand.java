package tern.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tern.auth.QueueOperation;
import tern.auth.Role;
import tern.auth.Rules;
import tern.auth.User;
import tern.auth.UserStore;
import tern.auth.UsersFileException;

/**
 * {@code tern user add|rm|passwd|token|ls}: edits the users file (docs/security.md, "Users file") with
 * atomic rewrites. Passwords come from stdin ({@code --password-stdin}), the terminal prompt, or, for
 * scripts that accept the risk, {@code --password}; never echoed or printed. A running broker picks
 * the changes up on SIGHUP (or restart).
 */
@Command(name = "user", mixinStandardHelpOptions = true,
        description = {"Manage the users file a broker started with --users FILE authenticates against.",
                "A running broker re-reads it on SIGHUP."},
        subcommands = {UserCommand.Add.class, UserCommand.Remove.class, UserCommand.Passwd.class,
                UserCommand.Token.class, UserCommand.Ls.class})
final class UserCommand implements Runnable {
    /** Default users file, in the working directory. */
    static final String DEFAULT_USERS_FILE = "users.tern";

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command (add, rm, passwd, token, ls)");
    }

    /** --users FILE on every subcommand. */
    static final class UsersFile {
        @Option(names = "--users", paramLabel = "FILE", defaultValue = DEFAULT_USERS_FILE,
                description = "Users file (default: ./${DEFAULT-VALUE}). Created by `add` when missing, mode 0600.")
        Path file;

        UserStore load(boolean mayBeMissing) {
            if (mayBeMissing && !Files.exists(file)) {
                return UserStore.empty();
            }
            try {
                return UserStore.load(file);
            } catch (UsersFileException e) {
                throw new CommandFailedException("users file " + e.getMessage(), e);
            } catch (IOException e) {
                throw new CommandFailedException("cannot read users file " + file + ": " + e, e);
            }
        }

        void save(UserStore store) {
            try {
                store.save(file);
            } catch (IOException e) {
                throw new CommandFailedException("cannot write users file " + file + ": " + e, e);
            }
        }
    }

    /** Where a new password comes from: stdin, a flag, or the terminal. */
    static final class PasswordSource {
        @Option(names = "--password-stdin", description = "Read the password from the first line of standard input.")
        boolean stdin;

        @Option(names = "--password", paramLabel = "PASSWORD",
                description = "The password itself. For scripts only: other local users can see it in the process "
                        + "list and it stays in shell history; prefer --password-stdin.")
        String password;

        String read(String user) {
            if (password != null) {
                return Passwords.check(password);
            }
            if (stdin) {
                return Passwords.fromStdin(System.in);
            }
            return Passwords.prompt("password for " + user, true);
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a user with a password (SCRAM-SHA-256 verifier; the password is not stored).")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        VerboseOption verbose;
        @Mixin
        UsersFile users;
        @ArgGroup(exclusive = true)
        PasswordSource source = new PasswordSource();

        @Parameters(index = "0", paramLabel = "NAME", description = "User name (no spaces, not starting with # or %).")
        String name;

        @Option(names = "--roles", paramLabel = "ROLE[,ROLE]", split = ",",
                description = "Any of admin, producer, consumer (docs/security.md, Roles).")
        List<String> roles = new ArrayList<>();

        @Option(names = "--publish", paramLabel = "PATTERNS", description = "Extra publish patterns, comma-separated; "
                + "a leading - denies (e.g. 'orders.>,-orders.secret').")
        String publish;

        @Option(names = "--subscribe", paramLabel = "PATTERNS", description = "Extra subscribe patterns, same syntax.")
        String subscribe;

        @Option(names = "--queue-declare", paramLabel = "PATTERNS", description = "Queue names the user may declare.")
        String queueDeclare;

        @Option(names = "--queue-delete", paramLabel = "PATTERNS", description = "Queue names the user may delete.")
        String queueDelete;

        @Option(names = "--queue-send", paramLabel = "PATTERNS", description = "Queue names the user may send to.")
        String queueSend;

        @Option(names = "--queue-consume", paramLabel = "PATTERNS", description = "Queue names the user may consume.")
        String queueConsume;

        @Option(names = "--no-password", description = "Create the user without a password (log in with a token "
                + "from `tern user token`).")
        boolean noPassword;

        @Override
        public Integer call() {
            User user;
            try {
                User.checkName(name);
                Set<Role> r = EnumSet.noneOf(Role.class);
                for (String role : roles) {
                    r.add(Role.parse(role.trim()));
                }
                user = User.named(name).withRoles(r);
                user = publish == null ? user : user.withPublish(Rules.parse(publish));
                user = subscribe == null ? user : user.withSubscribe(Rules.parse(subscribe));
                user = queue(user, QueueOperation.DECLARE, queueDeclare);
                user = queue(user, QueueOperation.DELETE, queueDelete);
                user = queue(user, QueueOperation.SEND, queueSend);
                user = queue(user, QueueOperation.CONSUME, queueConsume);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            UserStore store = users.load(true);
            if (store.user(name).isPresent()) {
                throw new CommandFailedException("user '" + name + "' already exists in " + users.file
                        + " (use `tern user passwd` or `tern user rm`)");
            }
            if (noPassword) {
                if (source.password != null || source.stdin) {
                    throw new ParameterException(spec.commandLine(), "--no-password with a password option");
                }
            } else {
                user = user.withPassword(source.read(name), UserStore.DEFAULT_ITERATIONS, new SecureRandom());
            }
            UserStore after = store.put(user);
            users.save(after);
            PrintWriter out = spec.commandLine().getOut();
            out.println("added " + after.user(name).orElseThrow().describe());
            out.flush();
            return TernCli.EXIT_OK;
        }

        private static User queue(User user, QueueOperation op, String patterns) {
            return patterns == null ? user : user.withQueue(op, Rules.parse(patterns));
        }
    }

    /** A change to one existing user: load the file, change it, save it, print one line. */
    abstract static class UserEdit implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        VerboseOption verbose;
        @Mixin
        UsersFile users;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        /** The file's users after the change, and what to print. */
        record Change(UserStore after, String line) {
        }

        abstract Change change(UserStore store);

        @Override
        public Integer call() {
            Change c = change(users.load(false));
            users.save(c.after());
            spec.commandLine().getOut().println(c.line());
            spec.commandLine().getOut().flush();
            return TernCli.EXIT_OK;
        }

        CommandFailedException noSuchUser() {
            return new CommandFailedException("no user '" + name + "' in " + users.file);
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a user.")
    static final class Remove extends UserEdit {
        @Override
        Change change(UserStore store) {
            try {
                return new Change(store.remove(name), "removed " + name);
            } catch (IllegalArgumentException e) {
                throw new CommandFailedException(e.getMessage() + " in " + users.file, e);
            }
        }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true,
            description = "Set a user's password (fresh salt and verifier).")
    static final class Passwd extends UserEdit {
        @ArgGroup(exclusive = true)
        PasswordSource source = new PasswordSource();

        @Override
        Change change(UserStore store) {
            if (store.user(name).isEmpty()) {
                throw noSuchUser();
            }
            return new Change(store.changePassword(name, source.read(name)), "password changed for " + name);
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true,
            description = {"Give a user a new bearer token and print it once (only its SHA-256 is stored; the "
                    + "previous token stops working).", "Use tokens only over TLS or on a trusted network."})
    static final class Token extends UserEdit {
        @Override
        Change change(UserStore store) {
            User user = store.user(name).orElseThrow(this::noSuchUser);
            String token = UserStore.newToken(new SecureRandom());
            return new Change(store.put(user.withToken(token)), token);
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "List users: roles, lists, whether a password or token is set; never secrets.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        VerboseOption verbose;
        @Mixin
        UsersFile users;

        @Override
        public Integer call() {
            UserStore store = users.load(false);
            List<String> lines = store.describe();
            PrintWriter out = spec.commandLine().getOut();
            for (String line : lines) {
                out.println(line);
            }
            out.flush();
            return TernCli.EXIT_OK;
        }
    }
}
