package io.spindrift.sink.hudi;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hudi.common.fs.ConsistencyGuard;
import org.apache.hudi.common.fs.ConsistencyGuardConfig;
import org.apache.hudi.common.fs.FailSafeConsistencyGuard;
import org.apache.hudi.common.fs.FileSystemRetryConfig;
import org.apache.hudi.common.fs.NoOpConsistencyGuard;
import org.apache.hudi.common.table.HoodieTableConfig;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.storage.HoodieStorageUtils;
import org.apache.hudi.storage.StorageConfiguration;
import org.apache.hudi.storage.StoragePath;
import org.apache.hudi.storage.StoragePathInfo;
import org.apache.hudi.storage.hadoop.HoodieHadoopStorage;

/**
 * The storage of a warm write client's meta client: Hudi's own (the same retries and consistency guard as
 * {@code HoodieTableMetaClient} builds), which remembers what does not change while the table exists. Hudi builds a
 * table view for every step of a commit (four or five per publish), and each build checks that the table's base and
 * {@code .hoodie} directories exist (a HEAD and a LIST each on S3) and reads {@code hoodie.properties} (a HEAD and a
 * GET) through this storage. The directories are remembered once seen; {@code hoodie.properties} is remembered
 * until this storage writes, renames or deletes it, so it is read once per client, as the warm meta client already
 * reads its table config once (an upgrade of the table by another Hudi version is not followed by a warm client).
 * Timeline files, data files and markers always go to S3.
 */
final class TableStorage extends HoodieHadoopStorage {
  private final StoragePath properties;
  private final Set<StoragePath> directories = ConcurrentHashMap.newKeySet();
  private final Set<StoragePath> tableDirectories;
  private volatile byte[] propertiesBytes;

  private TableStorage(StoragePath basePath, StorageConfiguration<?> conf, FileSystemRetryConfig retry,
      ConsistencyGuard guard) {
    super(basePath, conf, retry.isFileSystemActionRetryEnable(), retry.getMaxRetryIntervalMs(),
        retry.getMaxRetryNumbers(), retry.getInitialRetryIntervalMs(), retry.getRetryExceptions(), guard);
    StoragePath meta = new StoragePath(basePath, HoodieTableMetaClient.METAFOLDER_NAME);
    this.properties = new StoragePath(meta, HoodieTableConfig.HOODIE_PROPERTIES_FILE);
    this.tableDirectories = Set.of(basePath, meta);
  }

  /** The storage of the table at {@code basePath}, with the retry and consistency settings of a write config. */
  static TableStorage of(String basePath, StorageConfiguration<?> conf, ConsistencyGuardConfig consistency,
      FileSystemRetryConfig retry) {
    StoragePath base = new StoragePath(basePath);
    ConsistencyGuard guard = consistency.isConsistencyCheckEnabled()
        ? new FailSafeConsistencyGuard(HoodieStorageUtils.getStorage(base, conf), consistency)
        : new NoOpConsistencyGuard();
    return new TableStorage(base, conf, retry, guard);
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
    return (tableDirectories.contains(path) && directories.contains(path)) || super.exists(path);
  }

  @Override
  public InputStream open(StoragePath path) throws IOException {
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

  @Override
  public OutputStream create(StoragePath path, boolean overwrite) throws IOException {
    forgetIfProperties(path);
    return super.create(path, overwrite);
  }

  @Override
  public OutputStream create(StoragePath path, boolean overwrite, Integer bufferSize, Short replication,
      Long sizeThreshold) throws IOException {
    forgetIfProperties(path);
    return super.create(path, overwrite, bufferSize, replication, sizeThreshold);
  }

  @Override
  public boolean createNewFile(StoragePath path) throws IOException {
    forgetIfProperties(path);
    return super.createNewFile(path);
  }

  @Override
  public OutputStream append(StoragePath path) throws IOException {
    forgetIfProperties(path);
    return super.append(path);
  }

  @Override
  public boolean rename(StoragePath from, StoragePath to) throws IOException {
    forgetIfProperties(from);
    forgetIfProperties(to);
    return super.rename(from, to);
  }

  @Override
  public boolean deleteFile(StoragePath path) throws IOException {
    forgetIfProperties(path);
    return super.deleteFile(path);
  }

  @Override
  public boolean deleteDirectory(StoragePath path) throws IOException {
    forgetIfProperties(path);
    directories.removeIf(d -> d.toString().startsWith(path.toString()));
    return super.deleteDirectory(path);
  }

  /** {@code hoodie.properties} (or its backup, or the directory holding it) is changed here: read it again. */
  private void forgetIfProperties(StoragePath path) {
    if (path.getName().startsWith(HoodieTableConfig.HOODIE_PROPERTIES_FILE)
        || properties.toString().startsWith(path.toString())) {
      propertiesBytes = null;
    }
  }
}
