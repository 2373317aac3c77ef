package tern.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small filesystem a test creates for itself and mounts under its own directory: a loop-mounted ext4 image
 * ({@link #ext4}) or a tmpfs ({@link #tmpfs}). Needs root and mount(8); {@link #unavailableReason()} says why not
 * so a test can skip with a clear assumption message.
 *
 * <p><b>Power cut stand-in</b> ({@link #copyImageWithoutSync}): the ext4 filesystem lives on /dev/loopN, whose
 * backing store is the image file. A write by a process lands in the page cache of the <i>mounted</i>
 * filesystem; only writeback (fsync, or the kernel's flusher after dirty_expire_centisecs, 30 s by default)
 * sends it to the loop device, which writes it into the image file. Reading the image file (plain {@code read},
 * not O_DIRECT, which would bypass the backing file's own cache) therefore shows exactly what the block device
 * has received: everything fsynced, plus whatever the flusher happened to write back, and nothing still dirty
 * in the upper page cache. That is one of the states a power cut can leave, so recovering from a copy of the
 * image must keep every confirmed-after-fsync record. Unmounting or {@code sync} would flush the upper cache
 * and spoil it, so the copy is taken while the filesystem is still mounted. {@code drop_caches} is not a power
 * cut: it only drops clean pages.
 */
public final class ScratchFilesystem implements AutoCloseable {
    /** Bound on each mount/mkfs/umount command. */
    private static final long COMMAND_TIMEOUT_SECONDS = 30;
    /** Largest filesystem a test may create (tests want small ones). */
    public static final long MAX_BYTES = 1L << 30;

    private final Path mountPoint;
    private final Path image;

    private ScratchFilesystem(Path mountPoint, Path image) {
        this.mountPoint = mountPoint;
        this.image = image;
    }

    /** Null when this process can mount filesystems (root, mount(8) present); else the reason it cannot. */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "needs root to mount a scratch filesystem (user is " + System.getProperty("user.name") + ")";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/mount")) && !Files.isExecutable(Path.of("/bin/mount"))) {
            return "mount(8) not found";
        }
        return null;
    }

    /** Creates a sparse image of sizeBytes under dir, makes ext4 on it and loop-mounts it at dir/mnt. */
    public static ScratchFilesystem ext4(Path dir, long sizeBytes) throws IOException {
        checkSize(sizeBytes);
        Path image = dir.resolve("fs.img");
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.position(sizeBytes - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        run("mkfs.ext4", "-q", "-F", "-m", "0", image.toString());
        return mountImage(image, dir.resolve("mnt"));
    }

    /** Loop-mounts an existing ext4 image (e.g. a copy) at mountPoint; mounting replays its journal. */
    public static ScratchFilesystem mountImage(Path image, Path mountPoint) throws IOException {
        Files.createDirectories(mountPoint);
        run("mount", "-t", "ext4", "-o", "loop", image.toString(), mountPoint.toString());
        return new ScratchFilesystem(mountPoint, image);
    }

    /** Mounts a tmpfs of sizeBytes at dir/mnt. */
    public static ScratchFilesystem tmpfs(Path dir, long sizeBytes) throws IOException {
        checkSize(sizeBytes);
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        run("mount", "-t", "tmpfs", "-o", "size=" + sizeBytes + ",mode=0700", "tmpfs", mnt.toString());
        return new ScratchFilesystem(mnt, null);
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** The backing image, or null for tmpfs. */
    public Path image() {
        return image;
    }

    /**
     * Copies the raw image to target without syncing anything first: the copy holds what reached the block
     * device (see the class comment). Only for ext4 scratch filesystems.
     */
    public Path copyImageWithoutSync(Path target) throws IOException {
        if (image == null) {
            throw new IllegalStateException("a tmpfs has no image: it cannot stand in for a power cut");
        }
        return Files.copy(image, target, StandardCopyOption.COPY_ATTRIBUTES);
    }

    /** Free bytes as the filesystem reports them to unprivileged writers. */
    public long usableBytes() throws IOException {
        return Files.getFileStore(mountPoint).getUsableSpace();
    }

    /** Unmounts (lazily if still busy) and deletes the image; never throws for an already gone mount. */
    @Override
    public void close() throws IOException {
        try {
            run("umount", mountPoint.toString());
        } catch (IOException e) {
            run("umount", "-l", mountPoint.toString());
        }
        if (image != null) {
            Files.deleteIfExists(image);
        }
    }

    private static void checkSize(long sizeBytes) {
        if (sizeBytes < (1 << 20) || sizeBytes > MAX_BYTES) {
            throw new IllegalArgumentException("scratch filesystem of " + sizeBytes + " bytes outside 1 MiB.."
                    + MAX_BYTES);
        }
    }

    /** Runs a command to completion within the bound; a non-zero exit throws with its output. */
    static String run(String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish within " + COMMAND_TIMEOUT_SECONDS
                        + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", cmd), e);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + output);
        }
        return output;
    }
}
