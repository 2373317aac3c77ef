package tern.queue;

/** The engine's only source of time, injectable so tests advance a manual clock. */
@FunctionalInterface
public interface QueueClock {
    QueueClock SYSTEM = System::currentTimeMillis;

    long nowMillis();
}
