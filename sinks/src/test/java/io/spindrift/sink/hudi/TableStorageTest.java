package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.common.fs.ConsistencyGuardConfig;
import org.apache.hudi.common.fs.FileSystemRetryConfig;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.storage.StoragePath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a warm client's storage remembers of its table (its directories, {@code hoodie.properties}) and when it
 * reads again, on the local file system: a file changed behind its back shows what is read from memory.
 */
class TableStorageTest {
  @TempDir
  Path dir;

  private String base() {
    return dir.toUri().toString().replaceAll("/$", "");
  }

  private TableStorage storage() {
    return TableStorage.of(base(), HadoopFSUtils.getStorageConf(new Configuration()),
        ConsistencyGuardConfig.newBuilder().build(), FileSystemRetryConfig.newBuilder().build());
  }

  /** A storage that treats the local file system as S3 (atomic writes), as the sink's s3a:// tables are. */
  private TableStorage atomicStorage() {
    return TableStorage.of(base(), HadoopFSUtils.getStorageConf(new Configuration()),
        ConsistencyGuardConfig.newBuilder().build(), FileSystemRetryConfig.newBuilder().build(), true);
  }

  private static String read(TableStorage storage, StoragePath path) throws IOException {
    try (InputStream in = storage.open(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void hoodiePropertiesIsReadOnceUntilThisStorageWritesIt() throws IOException {
    Path meta = Files.createDirectories(dir.resolve(".hoodie"));
    Files.writeString(meta.resolve("hoodie.properties"), "hoodie.table.version=6\n");
    Files.writeString(meta.resolve("1.commit"), "first");
    TableStorage storage = storage();
    StoragePath properties = new StoragePath(base() + "/.hoodie/hoodie.properties");
    StoragePath commit = new StoragePath(base() + "/.hoodie/1.commit");

    assertThat(read(storage, properties)).isEqualTo("hoodie.table.version=6\n");
    Files.writeString(meta.resolve("hoodie.properties"), "changed behind its back\n");
    Files.writeString(meta.resolve("1.commit"), "second");
    assertThat(read(storage, properties)).as("remembered").isEqualTo("hoodie.table.version=6\n");
    assertThat(read(storage, commit)).as("timeline files always read").isEqualTo("second");

    try (OutputStream out = storage.create(properties, true)) {
      out.write("hoodie.table.version=7\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(read(storage, properties)).as("written through the storage: read again")
        .isEqualTo("hoodie.table.version=7\n");
  }

  @Test
  void theTableDirectoriesAreRememberedOnceSeenAndOtherPathsAlwaysLookedUp() throws IOException {
    Path meta = Files.createDirectories(dir.resolve(".hoodie"));
    Files.writeString(dir.resolve("part.parquet"), "x");
    TableStorage storage = storage();
    StoragePath metaPath = new StoragePath(base() + "/.hoodie");
    StoragePath data = new StoragePath(base() + "/part.parquet");

    assertThat(storage.getPathInfo(metaPath).isDirectory()).isTrue();
    assertThat(storage.exists(data)).isTrue();
    Files.delete(meta);
    Files.delete(dir.resolve("part.parquet"));
    assertThat(storage.getPathInfo(metaPath).isDirectory()).as("remembered").isTrue();
    assertThat(storage.exists(metaPath)).isTrue();
    assertThat(storage.exists(data)).as("not a table directory: looked up").isFalse();
    assertThatThrownBy(() -> storage.getPathInfo(data)).isInstanceOf(FileNotFoundException.class);

    Files.createDirectories(meta);
    storage.deleteDirectory(metaPath);
    assertThat(storage.exists(metaPath)).as("deleted through the storage: looked up again").isFalse();
  }

  @Test
  void aCompletedInstantIsReadOnceByTheJvmUntilAStorageChangesIt() throws IOException {
    Path meta = Files.createDirectories(dir.resolve(".hoodie"));
    Files.writeString(meta.resolve("20261205010101000.commit"), "first");
    Files.writeString(meta.resolve("20261205010101000.inflight"), "inflight");
    Files.writeString(meta.resolve("20261205010101000.replacecommit.requested"), "requested");
    StoragePath commit = new StoragePath(base() + "/.hoodie/20261205010101000.commit");
    StoragePath inflight = new StoragePath(base() + "/.hoodie/20261205010101000.inflight");
    StoragePath requested = new StoragePath(base() + "/.hoodie/20261205010101000.replacecommit.requested");
    TableStorage storage = atomicStorage();

    assertThat(read(storage, commit)).isEqualTo("first");
    assertThat(read(storage, inflight)).isEqualTo("inflight");
    assertThat(read(storage, requested)).isEqualTo("requested");
    Files.writeString(meta.resolve("20261205010101000.commit"), "changed behind its back");
    Files.writeString(meta.resolve("20261205010101000.inflight"), "inflight, later");
    Files.writeString(meta.resolve("20261205010101000.replacecommit.requested"), "requested, later");
    assertThat(read(storage, commit)).as("remembered").isEqualTo("first");
    assertThat(read(atomicStorage(), commit)).as("remembered by the JVM, for every storage").isEqualTo("first");
    assertThat(read(storage, inflight)).as("an inflight instant changes: always read").isEqualTo("inflight, later");
    assertThat(read(storage, requested)).as("a requested instant changes: always read")
        .isEqualTo("requested, later");
    assertThat(read(storage(), commit)).as("not on S3 (a write may not be atomic): always read")
        .isEqualTo("changed behind its back");

    storage.deleteFile(commit);
    Files.writeString(meta.resolve("20261205010101000.commit"), "written again");
    assertThat(read(atomicStorage(), commit)).as("deleted through a storage: forgotten").isEqualTo("written again");
  }

  @Test
  void aMarkerDirectoryIsNotCreatedOnS3AndIsKnownUntilThisStorageDeletesIt() throws IOException {
    Files.createDirectories(dir.resolve(".hoodie/.temp"));
    StoragePath own = new StoragePath(base() + "/.hoodie/.temp/20261205010101000");
    StoragePath another = new StoragePath(base() + "/.hoodie/.temp/20261205020202000");
    TableStorage storage = atomicStorage();

    assertThat(storage.exists(own)).isFalse();
    assertThat(storage.createDirectory(own)).isTrue();
    assertThat(dir.resolve(".hoodie/.temp/20261205010101000")).as("no directory object on S3").doesNotExist();
    assertThat(storage.exists(own)).as("created by this storage").isTrue();
    assertThat(storage.exists(another)).isFalse();
    Files.createDirectories(dir.resolve(".hoodie/.temp/20261205020202000"));
    assertThat(storage.exists(another)).as("another writer's: looked up").isTrue();

    Files.createDirectories(dir.resolve(".hoodie/.temp/20261205010101000"));
    storage.deleteDirectory(own);
    assertThat(dir.resolve(".hoodie/.temp/20261205010101000")).doesNotExist();
    Files.createDirectories(dir.resolve(".hoodie/.temp/20261205010101000"));
    assertThat(storage.exists(own)).as("deleted by this storage: known gone").isFalse();
    assertThat(atomicStorage().exists(own)).as("another storage looks it up").isTrue();

    TableStorage local = storage();
    StoragePath third = new StoragePath(base() + "/.hoodie/.temp/20261205030303000");
    assertThat(local.createDirectory(third)).isTrue();
    assertThat(dir.resolve(".hoodie/.temp/20261205030303000")).as("not on S3: created").isDirectory();
  }

  @Test
  void completedInstantsStayWithinTheirCountAndBytesDroppingTheLeastRecentlyRead() {
    TableStorage.CompletedInstants kept = new TableStorage.CompletedInstants(3, 100);
    kept.put("a", new byte[40]);
    kept.put("b", new byte[40]);
    kept.put("c", new byte[40]);
    assertThat(kept.get("a")).as("over 100 bytes: the eldest dropped").isNull();
    assertThat(kept.bytes()).isEqualTo(80);

    assertThat(kept.get("b")).hasSize(40);
    kept.put("d", new byte[10]);
    kept.put("e", new byte[10]);
    assertThat(kept.get("c")).as("over 3 files: the least recently read dropped").isNull();
    assertThat(kept.get("b")).as("read since").isNotNull();
    assertThat(kept.get("d")).isNotNull();
    assertThat(kept.get("e")).isNotNull();
    assertThat(kept.bytes()).isEqualTo(60);

    kept.remove("b");
    assertThat(kept.get("b")).isNull();
    assertThat(kept.bytes()).isEqualTo(20);
  }
}
