package io.spindrift.sink.hudi;

import com.amazonaws.services.s3.model.DeleteObjectsRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.fs.s3a.WriteOperationHelper;
import org.apache.hudi.common.config.HoodieStorageConfig;
import org.apache.hudi.common.fs.ConsistencyGuard;
import org.apache.hudi.common.fs.ConsistencyGuardConfig;
import org.apache.hudi.common.fs.FailSafeConsistencyGuard;
import org.apache.hudi.common.fs.FileSystemRetryConfig;
import org.apache.hudi.common.fs.NoOpConsistencyGuard;
import org.apache.hudi.common.table.HoodieTableConfig;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.hadoop.fs.HoodieWrapperFileSystem;
import org.apache.hudi.storage.HoodieStorageUtils;
import org.apache.hudi.storage.StorageConfiguration;
import org.apache.hudi.storage.StoragePath;
import org.apache.hudi.storage.StoragePathInfo;
import org.apache.hudi.storage.hadoop.HoodieHadoopStorage;

/**
 * The storage of a warm client's meta client: Hudi's own (the same retries and consistency guard as
 * {@code HoodieTableMetaClient} builds), which remembers what does not change while the table exists. Hudi builds a
 * table view for every step of a commit (four or five per publish), and each build checks that the table's base and
 * {@code .hoodie} directories exist (a HEAD and a LIST each on S3) and reads {@code hoodie.properties} (a HEAD and a
 * GET) through this storage. The directories are remembered once seen; {@code hoodie.properties} is remembered
 * until this storage writes, renames or deletes it, so it is read once per client, as the warm meta client already
 * reads its table config once (an upgrade of the table by another Hudi version is not followed by a warm client).
 *
 * <p>On S3, where a PUT is atomic, two more things are remembered, both to save requests Hudi makes on every commit
 * (counted in a 100,000-event demo: a fifth of all its S3 requests):
 * <ul>
 *   <li>A completed instant's file ({@code <instant>.commit}, {@code .deltacommit}, {@code .replacecommit},
 *       {@code .clean}, {@code .rollback}) is written once and never changed, only deleted (archival): its bytes are
 *       kept, JVM-wide, by path ({@link #COMPLETED_INSTANTS}: 512 files and 16 MiB at most, the least recently
 *       read dropped first; a file over 1 MiB is not kept). Hudi reads the newest commit for the table's schema
 *       and the sink reads it for its tags several times per publish, each a HEAD and a GET. Requested and inflight
 *       files change, and are always read.</li>
 *   <li>A marker directory ({@code .hoodie/.temp/<instant>}) this storage was asked to create is not created: S3 has
 *       no directories and the marker file under it makes the prefix (S3A's {@code mkdirs} walks the parents, five
 *       requests). It is known to exist until this storage deletes it, and known gone after that; any other marker
 *       directory is looked up with one LIST ({@link FileSystem#isDirectory}), not S3A's HEAD and LIST: a marker
 *       directory is never a file. Hudi checks its instant's marker directory three times per commit and, when it
 *       archives, each archived instant's.</li>
 *   <li>A file of the timeline or a marker is written to memory and PUT in one request when closed, without S3A's
 *       check that its name is free (a HEAD and a LIST per file: {@link #directlyOnS3}).</li>
 *   <li>A file of the timeline or a heartbeat file is deleted by one DELETE ({@link #deleteFile}), and an instant's
 *       marker directory by one LIST and one bulk DELETE ({@link #deleteMarkerDirectory}), without S3A's checks
 *       around each delete.</li>
 * </ul>
 * Data files and everything else always go to S3 through S3A. Hudi builds this storage itself where its settings
 * name it ({@code hoodie.storage.class}: {@link #STORAGE_CLASS}, which the Java write client sets), so the write
 * client's own storage, which its heartbeats use, is one too.
 */
public final class TableStorage extends HoodieHadoopStorage {
  /** Hudi's setting naming the class of the storages it builds itself ({@code HoodieStorageUtils.getStorage}). */
  static final String STORAGE_CLASS = HoodieStorageConfig.HOODIE_STORAGE_CLASS.key();
  /** How many completed instants' files the JVM keeps ({@link #COMPLETED_INSTANTS}), the least recently read go. */
  static final int COMPLETED_INSTANTS_KEPT = 512;
  /** How many bytes of completed instants' files the JVM keeps at most. */
  static final long COMPLETED_INSTANT_BYTES = 16L * 1024 * 1024;
  /** A completed instant's file larger than this is read every time. */
  private static final int LARGEST_KEPT_BYTES = 1024 * 1024;
  /** How many marker directories a storage remembers as its own or as deleted; past it, it forgets them all. */
  private static final int MARKER_DIRECTORIES_KEPT = 10_000;
  /** The file of a completed instant, as Hudi (table version 6) names it: never rewritten once written. */
  private static final Pattern COMPLETED_INSTANT =
      Pattern.compile("\\d+\\.(commit|deltacommit|replacecommit|clean|rollback)");
  /** Completed instants' files by path, shared by every storage of the JVM: their bytes never change. */
  private static final CompletedInstants COMPLETED_INSTANTS =
      new CompletedInstants(COMPLETED_INSTANTS_KEPT, COMPLETED_INSTANT_BYTES);

  private final StoragePath properties;
  private final StoragePath meta;
  /** {@link #meta} as a prefix of the paths under it. */
  private final String metaPrefix;
  private final StoragePath markers;
  /** The folder of the writers' heartbeat files, {@code .hoodie/.heartbeat}. */
  private final StoragePath heartbeats;
  private final Set<StoragePath> directories = ConcurrentHashMap.newKeySet();
  private final Set<StoragePath> tableDirectories;
  /** Whether writes are atomic (S3): then completed instants and marker directories are remembered. */
  private final boolean atomicWrites;
  /** Marker directories this storage "created" (nothing is written) and has not deleted. */
  private final Set<StoragePath> ownMarkerDirectories = ConcurrentHashMap.newKeySet();
  /** Marker directories this storage deleted. */
  private final Set<StoragePath> deletedMarkerDirectories = ConcurrentHashMap.newKeySet();
  private volatile byte[] propertiesBytes;

  private TableStorage(StoragePath basePath, StorageConfiguration<?> conf, FileSystemRetryConfig retry,
      ConsistencyGuard guard, boolean atomicWrites) {
    super(basePath, conf, retry.isFileSystemActionRetryEnable(), retry.getMaxRetryIntervalMs(),
        retry.getMaxRetryNumbers(), retry.getInitialRetryIntervalMs(), retry.getRetryExceptions(), guard);
    this.meta = new StoragePath(basePath, HoodieTableMetaClient.METAFOLDER_NAME);
    this.metaPrefix = meta + "/";
    this.properties = new StoragePath(meta, HoodieTableConfig.HOODIE_PROPERTIES_FILE);
    this.markers = new StoragePath(basePath, HoodieTableMetaClient.TEMPFOLDER_NAME);
    this.heartbeats = new StoragePath(HoodieTableMetaClient.getHeartbeatFolderPath(basePath.toString()));
    this.tableDirectories = Set.of(basePath, meta);
    this.atomicWrites = atomicWrites;
  }

  /**
   * The storage Hudi builds itself for {@code path} when its settings name this class
   * ({@code hoodie.storage.class}, {@link #STORAGE_CLASS}: a write client's own storage, that of its heartbeats,
   * those Hudi builds for one file): Hudi's default retry and consistency settings, as its own storage has.
   */
  public TableStorage(StoragePath path, StorageConfiguration<?> conf) {
    this(path, conf, FileSystemRetryConfig.newBuilder().build(), new NoOpConsistencyGuard(), isS3(path));
  }

  /** The storage of the table at {@code basePath}, with the retry and consistency settings of a write config. */
  static TableStorage of(String basePath, StorageConfiguration<?> conf, ConsistencyGuardConfig consistency,
      FileSystemRetryConfig retry) {
    return of(basePath, conf, consistency, retry, isS3(new StoragePath(basePath)));
  }

  private static boolean isS3(StoragePath path) {
    String scheme = path.toUri().getScheme();
    return "s3a".equals(scheme) || "s3".equals(scheme);
  }

  /**
   * As {@link #of(String, StorageConfiguration, ConsistencyGuardConfig, FileSystemRetryConfig)}, saying whether the
   * file system's writes are atomic (tests treat the local file system as S3 with it).
   */
  static TableStorage of(String basePath, StorageConfiguration<?> conf, ConsistencyGuardConfig consistency,
      FileSystemRetryConfig retry, boolean atomicWrites) {
    StoragePath base = new StoragePath(basePath);
    ConsistencyGuard guard = consistency.isConsistencyCheckEnabled()
        ? new FailSafeConsistencyGuard(HoodieStorageUtils.getStorage(base, conf), consistency)
        : new NoOpConsistencyGuard();
    return new TableStorage(base, conf, retry, guard, atomicWrites);
  }

  /** The storage of the table at {@code basePath} with Hudi's default retry and consistency settings. */
  static TableStorage of(String basePath, StorageConfiguration<?> conf) {
    return of(basePath, conf, ConsistencyGuardConfig.newBuilder().build(), FileSystemRetryConfig.newBuilder().build());
  }

  @Override
  public StoragePathInfo getPathInfo(StoragePath path) throws IOException {
    boolean table = tableDirectories.contains(path);
    if (table && directories.contains(path)) {
      return new StoragePathInfo(path, 0, true, (short) 0, 0, 0);
    }
    StoragePathInfo info = super.getPathInfo(path);
    if (table && info.isDirectory()) {
      directories.add(path);
    }
    return info;
  }

  @Override
  public boolean exists(StoragePath path) throws IOException {
    if (tableDirectories.contains(path) && directories.contains(path)) {
      return true;
    }
    if (isMarkerDirectory(path)) {
      if (ownMarkerDirectories.contains(path)) {
        return true;
      }
      if (deletedMarkerDirectories.contains(path)) {
        return false;
      }
      return ((FileSystem) getFileSystem()).isDirectory(HadoopFSUtils.convertToHadoopPath(path));
    }
    return super.exists(path);
  }

  @Override
  public boolean createDirectory(StoragePath path) throws IOException {
    if (isMarkerDirectory(path)) {
      remember(ownMarkerDirectories, path);
      deletedMarkerDirectories.remove(path);
      return true;
    }
    return super.createDirectory(path);
  }

  /** A marker directory of an instant, {@code .hoodie/.temp/<instant>}, on S3. */
  private boolean isMarkerDirectory(StoragePath path) {
    return atomicWrites && markers.equals(path.getParent());
  }

  private static void remember(Set<StoragePath> set, StoragePath path) {
    if (set.size() >= MARKER_DIRECTORIES_KEPT) {
      set.clear();
    }
    set.add(path);
  }

  @Override
  public InputStream open(StoragePath path) throws IOException {
    if (isCompletedInstant(path)) {
      return completedInstant(path);
    }
    if (!properties.equals(path)) {
      return super.open(path);
    }
    byte[] bytes = propertiesBytes;
    if (bytes == null) {
      try (InputStream in = super.open(path)) {
        bytes = in.readAllBytes();
      }
      propertiesBytes = bytes;
    }
    return new ByteArrayInputStream(bytes);
  }

  private boolean isCompletedInstant(StoragePath path) {
    return atomicWrites && meta.equals(path.getParent()) && COMPLETED_INSTANT.matcher(path.getName()).matches();
  }

  /** A completed instant's bytes: remembered, or read (once, as Hudi reads a whole instant file) and kept. */
  private InputStream completedInstant(StoragePath path) throws IOException {
    String key = path.toString();
    byte[] bytes = COMPLETED_INSTANTS.get(key);
    if (bytes == null) {
      try (InputStream in = super.open(path)) {
        bytes = in.readAllBytes();
      }
      if (bytes.length <= LARGEST_KEPT_BYTES) {
        COMPLETED_INSTANTS.put(key, bytes);
      }
    }
    return new ByteArrayInputStream(bytes);
  }

  @Override
  public OutputStream create(StoragePath path, boolean overwrite) throws IOException {
    changed(path);
    Optional<S3AFileSystem> s3 = directlyOnS3(path);
    return s3.isPresent() ? new DirectPut(s3.get(), path) : super.create(path, overwrite);
  }

  @Override
  public OutputStream create(StoragePath path, boolean overwrite, Integer bufferSize, Short replication,
      Long sizeThreshold) throws IOException {
    changed(path);
    Optional<S3AFileSystem> s3 = directlyOnS3(path);
    return s3.isPresent() ? new DirectPut(s3.get(), path)
        : super.create(path, overwrite, bufferSize, replication, sizeThreshold);
  }

  /**
   * S3A, when {@code path} is a file of the timeline or a marker on S3 ({@code .hoodie/} but
   * {@code hoodie.properties}): such a file is a few KiB, written once under a name no other writer uses (an
   * instant's time and state, a marker's file id and write token), so it is PUT from memory in one request
   * ({@link DirectPut}). S3A's {@code create} first asks whether the name is taken, by a file (a HEAD) or a
   * directory (a LIST): two requests per file, six per commit for its instant's three states alone. That check
   * never made a write exclusive (S3 has no create-if-absent in S3A 3.3; another writer could PUT between the check
   * and the upload): Hudi's writers are kept apart by the table's lease and lock, not by it. {@link #deleteFile}
   * asks the same of the files it deletes in one request.
   */
  private Optional<S3AFileSystem> directlyOnS3(StoragePath path) {
    if (!atomicWrites || !path.toString().startsWith(metaPrefix)
        || path.getName().startsWith(HoodieTableConfig.HOODIE_PROPERTIES_FILE)) {
      return Optional.empty();
    }
    return s3();
  }

  /** The S3A file system under this storage (Hudi's wrapper unwrapped), if it is one. */
  private Optional<S3AFileSystem> s3() {
    Object fs = getFileSystem();
    if (fs instanceof HoodieWrapperFileSystem wrapper) {
      fs = wrapper.getFileSystem();
    }
    return fs instanceof S3AFileSystem s3 ? Optional.of(s3) : Optional.empty();
  }

  /**
   * A file written to memory and uploaded by one PUT when closed, through S3A's own write operations (its retries,
   * statistics and auditing), without the checks of {@code S3AFileSystem.create}. Nothing is uploaded if it is
   * never closed, as with S3A's own streams.
   */
  static final class DirectPut extends ByteArrayOutputStream {
    private final S3AFileSystem s3;
    private final org.apache.hadoop.fs.Path path;
    private boolean closed;

    DirectPut(S3AFileSystem s3, StoragePath path) {
      this.s3 = s3;
      this.path = HadoopFSUtils.convertToHadoopPath(path);
    }

    @Override
    public synchronized void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      WriteOperationHelper writes = s3.getWriteOperationHelper();
      writes.putObject(writes.createPutObjectRequest(s3.pathToKey(path), new ByteArrayInputStream(buf, 0, count),
          count, new HashMap<>()));
    }
  }

  @Override
  public boolean createNewFile(StoragePath path) throws IOException {
    changed(path);
    return super.createNewFile(path);
  }

  @Override
  public OutputStream append(StoragePath path) throws IOException {
    changed(path);
    return super.append(path);
  }

  @Override
  public boolean rename(StoragePath from, StoragePath to) throws IOException {
    changed(from);
    changed(to);
    return super.rename(from, to);
  }

  /**
   * A file of the timeline ({@code .hoodie/<instant>.<action>[.<state>]}, but {@code hoodie.properties}) or a
   * writer's heartbeat ({@code .hoodie/.heartbeat/<instant>}) on S3 is deleted by one DELETE. S3A's delete first asks
   * what the path is (a HEAD) and after the DELETE whether the parent directory still exists, to put a directory
   * marker there if not (a LIST): {@code .hoodie/} always holds {@code hoodie.properties}, and the heartbeat folder
   * keeps the marker made with the table (S3A keeps directory markers: {@code SinkSettings}). Hudi deletes timeline
   * files (archival, rollback) after it checked they exist, and a heartbeat file when it stops the heartbeat it
   * started, so the answer is true, as S3A's would be. Anything else goes through S3A.
   */
  @Override
  public boolean deleteFile(StoragePath path) throws IOException {
    changed(path);
    StoragePath parent = path.getParent();
    Optional<S3AFileSystem> s3 = meta.equals(parent) || heartbeats.equals(parent) ? directlyOnS3(path)
        : Optional.empty();
    if (s3.isEmpty()) {
      return super.deleteFile(path);
    }
    S3AFileSystem fs = s3.get();
    fs.removeKeys(List.of(new DeleteObjectsRequest.KeyVersion(fs.pathToKey(HadoopFSUtils.convertToHadoopPath(path)))),
        false, null);
    return true;
  }

  /**
   * Deletes the marker directory of an instant ({@code .hoodie/.temp/<instant>}) and every marker in it. On S3, one
   * LIST of the markers and one bulk DELETE of them, where Hudi's own way ({@code FSUtils.deleteDir}) lists the
   * directory, deletes each marker by S3A (a HEAD, the DELETE and a LIST for the parent each, and a PUT of a
   * directory marker once the last one is gone) and then the directory (a HEAD and a LIST, and a DELETE of that
   * directory marker). Returns whether there was anything to delete; elsewhere, or for another path, it is
   * {@link #deleteDirectory}.
   */
  boolean deleteMarkerDirectory(StoragePath dir) throws IOException {
    Optional<S3AFileSystem> s3 = isMarkerDirectory(dir) ? s3() : Optional.empty();
    if (s3.isEmpty()) {
      return deleteDirectory(dir);
    }
    if (deletedMarkerDirectories.contains(dir)) {
      return false;
    }
    S3AFileSystem fs = s3.get();
    org.apache.hadoop.fs.Path hadoopDir = HadoopFSUtils.convertToHadoopPath(dir);
    String prefix = fs.pathToKey(hadoopDir) + "/";
    // a directory marker object too, in case another writer made the directory with S3A's mkdirs
    List<DeleteObjectsRequest.KeyVersion> keys = new ArrayList<>();
    keys.add(new DeleteObjectsRequest.KeyVersion(prefix));
    try {
      RemoteIterator<LocatedFileStatus> markers = fs.listFiles(hadoopDir, true);
      while (markers.hasNext()) {
        keys.add(new DeleteObjectsRequest.KeyVersion(fs.pathToKey(markers.next().getPath())));
      }
    } catch (FileNotFoundException gone) {
      keys.clear();
    }
    if (!keys.isEmpty()) {
      fs.removeKeys(keys, false, null);
    }
    ownMarkerDirectories.remove(dir);
    remember(deletedMarkerDirectories, dir);
    return !keys.isEmpty();
  }

  @Override
  public boolean deleteDirectory(StoragePath path) throws IOException {
    changed(path);
    directories.removeIf(d -> d.toString().startsWith(path.toString()));
    boolean deleted = super.deleteDirectory(path);
    if (isMarkerDirectory(path)) {
      ownMarkerDirectories.remove(path);
      remember(deletedMarkerDirectories, path);
    }
    return deleted;
  }

  /**
   * {@code path} is changed here: if it is {@code hoodie.properties} (or its backup, or the directory holding it),
   * read it again; if it is a completed instant's file, forget its bytes (it is being archived, or the write
   * replaces what a failed one left).
   */
  private void changed(StoragePath path) {
    if (path.getName().startsWith(HoodieTableConfig.HOODIE_PROPERTIES_FILE)
        || properties.toString().startsWith(path.toString())) {
      propertiesBytes = null;
    }
    if (isCompletedInstant(path)) {
      COMPLETED_INSTANTS.remove(path.toString());
    }
  }

  /** Files by path, the least recently read dropped first to stay within a count and a byte budget. */
  static final class CompletedInstants {
    private final int maxFiles;
    private final long maxBytes;
    private final LinkedHashMap<String, byte[]> byPath = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    CompletedInstants(int maxFiles, long maxBytes) {
      this.maxFiles = maxFiles;
      this.maxBytes = maxBytes;
    }

    synchronized byte[] get(String path) {
      return byPath.get(path);
    }

    synchronized void put(String path, byte[] content) {
      byte[] replaced = byPath.put(path, content);
      bytes += content.length - (replaced == null ? 0 : replaced.length);
      Iterator<byte[]> eldest = byPath.values().iterator();
      while ((byPath.size() > maxFiles || bytes > maxBytes) && eldest.hasNext()) {
        bytes -= eldest.next().length;
        eldest.remove();
      }
    }

    synchronized void remove(String path) {
      byte[] removed = byPath.remove(path);
      if (removed != null) {
        bytes -= removed.length;
      }
    }

    synchronized long bytes() {
      return bytes;
    }
  }
}
