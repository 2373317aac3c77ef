/**
 * Tern's crash-safe segmented append-only log: the storage under durable queues and replayable streams.
 *
 * <p>Start with {@link tern.storage.SegmentedLog#open(java.nio.file.Path, tern.storage.LogConfig)}. Records are
 * framed {@code length u32 | crc32c u32 | offset u64 | timestampMillis u64 | payload} in segment files named by
 * their 20-digit base offset, with a sparse index per sealed segment. Durability is reported by group commit
 * ({@link tern.storage.SegmentedLog#whenDurable}) according to a {@link tern.storage.SyncPolicy}; a failed fsync is
 * fatal for the log. Recovery at open scans the tail segment, validates the others cheaply, cuts the log at the
 * first torn or corrupt record and returns a {@link tern.storage.RecoveryReport}. The design is described in
 * {@code docs/storage.md}.
 */
package tern.storage;
