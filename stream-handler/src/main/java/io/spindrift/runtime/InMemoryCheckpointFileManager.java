package io.spindrift.runtime;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathFilter;
import org.apache.hadoop.fs.PositionedReadable;
import org.apache.hadoop.fs.Seekable;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager;

/**
 * Keeps the checkpoint files of the runtime's queries (their offset and commit logs, their metadata) in memory
 * instead of on disk. That checkpoint is disposable (the commit log is the durable record, DESIGN §5), yet Spark
 * writes two small files per micro-batch through it, each a temporary file, a checksum file and a rename: tens of
 * milliseconds per invocation on a busy disk. Spark instantiates this class by name for the sessions that set
 * {@code spark.sql.streaming.checkpointFileManagerClass}, so the files live in one map per JVM, part of the
 * per-container runtime like the invocation feeds; {@link #forget} drops a stopped query's files.
 */
public final class InMemoryCheckpointFileManager implements CheckpointFileManager {
  /** The Spark SQL setting (read from the session's Hadoop configuration) that selects a checkpoint file manager. */
  static final String SETTING = "spark.sql.streaming.checkpointFileManagerClass";
  private static final Map<String, byte[]> FILES = new ConcurrentSkipListMap<>();
  private static final Map<String, Boolean> DIRECTORIES = new ConcurrentSkipListMap<>();

  private final Path root;

  /** The constructor Spark calls: {@code (Path, Configuration)}. */
  public InMemoryCheckpointFileManager(Path root, Configuration hadoopConf) {
    this.root = root;
  }

  /** Drops every file and directory at or under {@code dir} (a query's checkpoint, when the query stops). */
  static void forget(java.nio.file.Path dir) {
    String prefix = key(new Path(dir.toUri()));
    FILES.keySet().removeIf(k -> k.equals(prefix) || k.startsWith(prefix + "/"));
    DIRECTORIES.keySet().removeIf(k -> k.equals(prefix) || k.startsWith(prefix + "/"));
  }

  /** Puts a whole file at {@code relative} under checkpoint {@code dir} (seeding a checkpoint before its query starts). */
  static void write(java.nio.file.Path dir, String relative, String content) {
    FILES.put(key(new Path(dir.toUri())) + "/" + relative, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The file at {@code relative} under checkpoint {@code dir}, or null when there is none. */
  static String read(java.nio.file.Path dir, String relative) {
    byte[] content = FILES.get(key(new Path(dir.toUri())) + "/" + relative);
    return content == null ? null : new String(content, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The names of the files directly in {@code subdir} of checkpoint {@code dir}. */
  static List<String> names(java.nio.file.Path dir, String subdir) {
    String prefix = key(new Path(dir.toUri())) + "/" + subdir + "/";
    List<String> out = new ArrayList<>();
    for (String k : ((ConcurrentSkipListMap<String, byte[]>) FILES).subMap(prefix, prefix + Character.MAX_VALUE).keySet()) {
      if (k.indexOf('/', prefix.length()) < 0) {
        out.add(k.substring(prefix.length()));
      }
    }
    return out;
  }

  private static String key(Path path) {
    String key = path.toUri().getPath();
    return key.length() > 1 && key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
  }

  @Override
  public CancellableFSDataOutputStream createAtomic(Path path, boolean overwriteIfPossible) {
    return new AtomicWrite(key(path), overwriteIfPossible, path);
  }

  @Override
  public FSDataInputStream open(Path path) {
    byte[] content = FILES.get(key(path));
    if (content == null) {
      // Scala declares no checked exceptions; Spark checks exists() before it opens a log file
      throw new UncheckedIOException(new FileNotFoundException("No checkpoint file " + path + " in memory"));
    }
    return new FSDataInputStream(new SeekableBytes(content));
  }

  @Override
  public FileStatus[] list(Path dir, PathFilter filter) {
    String prefix = key(dir) + "/";
    List<FileStatus> children = new ArrayList<>();
    ((ConcurrentSkipListMap<String, byte[]>) FILES).subMap(prefix, prefix + Character.MAX_VALUE).forEach((k, v) -> {
      if (k.indexOf('/', prefix.length()) < 0) {
        Path child = new Path(dir, k.substring(prefix.length()));
        if (filter.accept(child)) {
          children.add(new FileStatus(v.length, false, 1, v.length, 0, child));
        }
      }
    });
    return children.toArray(new FileStatus[0]);
  }

  @Override
  public void mkdirs(Path path) {
    DIRECTORIES.put(key(path), Boolean.TRUE);
  }

  @Override
  public boolean exists(Path path) {
    String key = key(path);
    return FILES.containsKey(key) || DIRECTORIES.containsKey(key);
  }

  @Override
  public void delete(Path path) {
    String key = key(path);
    FILES.remove(key);
    DIRECTORIES.remove(key);
  }

  @Override
  public boolean isLocal() {
    return true;
  }

  @Override
  public Path createCheckpointDirectory() {
    mkdirs(root);
    return root;
  }

  /** A file that appears, whole, when the stream is closed; never if it is cancelled. */
  private static final class AtomicWrite extends CancellableFSDataOutputStream {
    private final String key;
    private final boolean overwrite;
    private final Path path;
    private boolean done;

    AtomicWrite(String key, boolean overwrite, Path path) {
      super(new ByteArrayOutputStream());
      this.key = key;
      this.overwrite = overwrite;
      this.path = path;
    }

    @Override
    public void cancel() {
      done = true;
    }

    @Override
    public void close() throws IOException {
      if (done) {
        return;
      }
      done = true;
      super.close();
      byte[] content = ((ByteArrayOutputStream) underlyingStream()).toByteArray();
      if (overwrite) {
        FILES.put(key, content);
      } else if (FILES.putIfAbsent(key, content) != null) {
        throw new FileAlreadyExistsException("Checkpoint file " + path + " already exists");
      }
    }
  }

  /** What FSDataInputStream needs of the stream it wraps. */
  private static final class SeekableBytes extends ByteArrayInputStream implements Seekable, PositionedReadable {
    SeekableBytes(byte[] content) {
      super(content);
    }

    @Override
    public synchronized void seek(long position) throws IOException {
      if (position < 0 || position > count) {
        throw new EOFException("Cannot seek to " + position + " in " + count + " bytes");
      }
      pos = (int) position;
    }

    @Override
    public synchronized long getPos() {
      return pos;
    }

    @Override
    public boolean seekToNewSource(long targetPos) {
      return false;
    }

    @Override
    public int read(long position, byte[] buffer, int offset, int length) {
      if (position >= count) {
        return -1;
      }
      int n = (int) Math.min(length, count - position);
      System.arraycopy(buf, (int) position, buffer, offset, n);
      return n;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
      if (length > 0 && read(position, buffer, offset, length) < length) {
        throw new EOFException("Fewer than " + length + " bytes at " + position);
      }
    }

    @Override
    public void readFully(long position, byte[] buffer) throws IOException {
      readFully(position, buffer, 0, buffer.length);
    }
  }
}
