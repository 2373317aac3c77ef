package tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Simulates the page cache versus the disk, for power-cut tests. Files live on the real file system (that is the
 * "page cache"); this factory remembers, per file, the content as of its last {@code force} (the "disk") and whether
 * its directory entry was made durable (a directory {@code force} after it was created). {@link #cut()} kills every
 * channel and computes what a power cut could leave behind: the durable content plus a random subset of the
 * unsynced sectors (reordered writeback), a random file length between the durable and the current one, and files
 * whose directory entry was never synced randomly gone. {@link #applyCut()} writes that state back to the files.
 */
final class PowerCutFiles implements FileChannelFactory {

    private static final int SECTOR = 512;

    private final Random random;
    private final ReentrantReadWriteLock cutLock = new ReentrantReadWriteLock();
    private final Map<Path, FileState> files = new HashMap<>();
    private boolean dead;
    private Map<Path, byte[]> afterCut;

    private static final class FileState {
        byte[] durable;
        boolean entryDurable;
    }

    PowerCutFiles(Random random) {
        this.random = random;
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        Path key = path.toAbsolutePath().normalize();
        cutLock.readLock().lock();
        try {
            checkAlive();
            boolean existed = Files.exists(key);
            FileChannel real = FileChannel.open(path, options);
            if (!Files.isDirectory(key)) {
                synchronized (files) {
                    FileState st = files.get(key);
                    if (st == null) {
                        st = new FileState();
                        st.entryDurable = existed;
                        st.durable = existed ? Files.readAllBytes(key) : new byte[0];
                        files.put(key, st);
                    } else if (!existed) {
                        // Re-created after a deletion.
                        st.entryDurable = false;
                        st.durable = new byte[0];
                    }
                }
            }
            boolean dir = Files.isDirectory(key);
            return new DelegatingFileChannel(real) {
                @Override
                public int write(ByteBuffer src, long position) throws IOException {
                    cutLock.readLock().lock();
                    try {
                        checkAlive();
                        return delegate.write(src, position);
                    } finally {
                        cutLock.readLock().unlock();
                    }
                }

                @Override
                public FileChannel truncate(long size) throws IOException {
                    cutLock.readLock().lock();
                    try {
                        checkAlive();
                        delegate.truncate(size);
                        return this;
                    } finally {
                        cutLock.readLock().unlock();
                    }
                }

                @Override
                public int read(ByteBuffer dst, long position) throws IOException {
                    cutLock.readLock().lock();
                    try {
                        checkAlive();
                        return delegate.read(dst, position);
                    } finally {
                        cutLock.readLock().unlock();
                    }
                }

                @Override
                public void force(boolean metaData) throws IOException {
                    cutLock.readLock().lock();
                    try {
                        checkAlive();
                        delegate.force(metaData);
                        synchronized (files) {
                            if (dir) {
                                for (Map.Entry<Path, FileState> e : files.entrySet()) {
                                    if (e.getKey().getParent().equals(key) && Files.exists(e.getKey())) {
                                        e.getValue().entryDurable = true;
                                    }
                                }
                            } else {
                                files.get(key).durable = Files.readAllBytes(key);
                            }
                        }
                    } finally {
                        cutLock.readLock().unlock();
                    }
                }

                @Override
                public MappedByteBuffer map(MapMode mode, long position, long size) {
                    throw new UnsupportedOperationException("not simulated");
                }

                @Override
                public int write(ByteBuffer src) {
                    throw new UnsupportedOperationException("the log uses positional writes only");
                }
            };
        } finally {
            cutLock.readLock().unlock();
        }
    }

    private void checkAlive() throws IOException {
        if (dead) {
            throw new IOException("Input/output error (power cut)");
        }
    }

    /** Power cut: every channel fails from now on; computes what survives. In-flight calls finish first. */
    void cut() throws IOException {
        cutLock.writeLock().lock();
        try {
            dead = true;
            afterCut = new HashMap<>();
            synchronized (files) {
                for (Map.Entry<Path, FileState> e : files.entrySet()) {
                    Path p = e.getKey();
                    if (!Files.exists(p)) {
                        continue; // deleted: treated as durable (the log fsyncs the directory after unlinking)
                    }
                    FileState st = e.getValue();
                    if (!st.entryDurable && random.nextBoolean()) {
                        afterCut.put(p, null);
                        continue;
                    }
                    afterCut.put(p, survivor(st.durable, Files.readAllBytes(p)));
                }
            }
        } finally {
            cutLock.writeLock().unlock();
        }
    }

    private byte[] survivor(byte[] durable, byte[] current) {
        if (current.length < durable.length) {
            // A truncation that was not synced may or may not have reached the disk.
            return random.nextBoolean() ? durable : current;
        }
        int length = durable.length + random.nextInt(current.length - durable.length + 1);
        byte[] out = Arrays.copyOf(durable, length);
        double keep = random.nextDouble();
        for (int s = 0; s < length; s += SECTOR) {
            int end = Math.min(length, s + SECTOR);
            boolean dirty = end > durable.length || end > current.length
                    || !Arrays.equals(durable, s, end, current, s, end);
            if (dirty && random.nextDouble() < keep) {
                for (int i = s; i < end; i++) {
                    out[i] = i < current.length ? current[i] : 0;
                }
            }
        }
        return out;
    }

    /** Writes the post-cut state onto the real files (call after the log has been closed). */
    void applyCut() throws IOException {
        for (Map.Entry<Path, byte[]> e : afterCut.entrySet()) {
            if (e.getValue() == null) {
                Files.deleteIfExists(e.getKey());
            } else {
                Files.write(e.getKey(), e.getValue(), StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            }
        }
    }

    Set<Path> knownFiles() {
        synchronized (files) {
            return Set.copyOf(files.keySet());
        }
    }
}
