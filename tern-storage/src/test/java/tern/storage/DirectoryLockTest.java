package tern.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refused lock attempt in the same JVM must leave the holder's OS lock in place. On Linux closing any channel of
 * the lock file drops every lock the process holds on it, so this reads the kernel's lock table (/proc/locks).
 */
class DirectoryLockTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(30)
    void aRefusedSecondOpenOfALogLeavesTheFirstOnesOsLockInPlace() throws Exception {
        Path dir = tmp.resolve("log");
        try (SegmentedLog log = SegmentedLog.open(dir, TestSupport.small(SyncPolicy.ALWAYS))) {
            assertThat(log.endOffset()).isZero();
            Path lockFile = dir.resolve(SegmentedLog.LOCK_FILE);
            assertThat(osLocked(lockFile)).isTrue();
            assertThatThrownBy(() -> SegmentedLog.open(dir, TestSupport.small(SyncPolicy.ALWAYS)))
                    .isInstanceOf(StorageException.class).hasMessageContaining("already open");
            // The same directory through a symbolic link is the same directory.
            Path link = Files.createSymbolicLink(tmp.resolve("link"), dir);
            assertThatThrownBy(() -> SegmentedLog.open(link, TestSupport.small(SyncPolicy.ALWAYS)))
                    .isInstanceOf(StorageException.class).hasMessageContaining("already open");
            assertThat(osLocked(lockFile)).isTrue();
        }
        assertThat(osLocked(dir.resolve(SegmentedLog.LOCK_FILE))).isFalse();
        SegmentedLog.open(dir, TestSupport.small(SyncPolicy.ALWAYS)).close();
    }

    @Test
    @Timeout(30)
    void inUseSaysWhetherThisProcessHoldsItAndCloseReleasesIt() throws Exception {
        Path dir = tmp.resolve("d");
        DirectoryLock held = DirectoryLock.acquire(dir, "x.lock");
        assertThat(held.directory()).isEqualTo(dir.toRealPath());
        DirectoryLock.InUse e = org.junit.jupiter.api.Assertions.assertThrows(DirectoryLock.InUse.class,
                () -> DirectoryLock.acquire(dir, "x.lock"));
        assertThat(e.thisProcess()).isTrue();
        assertThat(e.lockFile()).isEqualTo(dir.toRealPath().resolve("x.lock"));
        assertThat(osLocked(e.lockFile())).isTrue();
        held.close();
        held.close();
        assertThat(osLocked(e.lockFile())).isFalse();
        DirectoryLock.acquire(dir, "x.lock").close();
    }

    /** Whether /proc/locks lists a lock on the file's inode. */
    private static boolean osLocked(Path file) throws Exception {
        long inode = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            String[] f = line.trim().split("\\s+");
            // "1: POSIX  ADVISORY  WRITE 1234 fd:01:56789 0 EOF": the sixth field ends with the inode
            if (f.length > 5 && f[5].endsWith(":" + inode)) {
                return true;
            }
        }
        return false;
    }
}
