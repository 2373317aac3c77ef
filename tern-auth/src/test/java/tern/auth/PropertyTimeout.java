package tern.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundTryHook;
import net.jqwik.api.lifecycle.Lifespan;
import net.jqwik.api.lifecycle.Store;
import net.jqwik.api.lifecycle.TryExecutionResult;
import net.jqwik.api.lifecycle.TryExecutor;
import net.jqwik.api.lifecycle.TryLifecycleContext;

/**
 * JUnit's {@code @Timeout} does not apply to jqwik properties; this is its counterpart. A property
 * fails once its tries have taken longer than {@link #seconds()} in total (checked before and after
 * every try, so a try that never returns is left to the surefire fork, like any test).
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@AddLifecycleHook(PropertyTimeout.Hook.class)
@interface PropertyTimeout {
    long seconds();

    /** Measures a property's elapsed time across its tries. */
    final class Hook implements AroundTryHook {
        @Override
        public TryExecutionResult aroundTry(TryLifecycleContext context, TryExecutor aTry, List<Object> parameters)
                throws Throwable {
            long limitNanos = context.findAnnotation(PropertyTimeout.class)
                    .map(t -> t.seconds() * 1_000_000_000L).orElse(Long.MAX_VALUE);
            Store<Long> start = Store.getOrCreate(List.of(Hook.class, context.label()), Lifespan.PROPERTY,
                    System::nanoTime);
            check(context, start.get(), limitNanos);
            TryExecutionResult result = aTry.execute(parameters);
            check(context, start.get(), limitNanos);
            return result;
        }

        private static void check(TryLifecycleContext context, long startNanos, long limitNanos) {
            long elapsed = System.nanoTime() - startNanos;
            if (elapsed > limitNanos) {
                throw new AssertionError(context.label() + " took " + elapsed / 1_000_000 + " ms, limit "
                        + limitNanos / 1_000_000 + " ms");
            }
        }
    }
}
