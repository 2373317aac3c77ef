package tern.broker.security;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP re-reads the users file ({@link Authenticator#reload()}), for {@code tern broker} and
 * BrokerMain. Installed through sun.misc.Signal (module jdk.unsupported), looked up reflectively so
 * the build does not depend on it; where it is unavailable (Windows, some JVMs) nothing is installed.
 */
public final class ReloadSignal {
    private static final Logger log = LoggerFactory.getLogger(ReloadSignal.class);

    private ReloadSignal() {
    }

    /** Installs the handler; false when signals are unavailable or the broker runs open (nothing to reload). */
    public static boolean install(Authenticator authenticator) {
        if (!authenticator.required()) {
            return false;
        }
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance("HUP");
            InvocationHandler h = (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                    log.info("received SIGHUP: reloading the users file {}", authenticator.usersFile());
                    Thread t = new Thread(authenticator::reload, "tern-reload-users");
                    t.setDaemon(true);
                    t.start();
                    return null;
                }
                return method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                        : method.getName().equals("equals") ? proxy == args[0] : "tern-reload-handler";
            };
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[]{handlerClass}, h);
            signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.debug("SIGHUP handler unavailable: {}", e.toString());
            return false;
        }
    }
}
