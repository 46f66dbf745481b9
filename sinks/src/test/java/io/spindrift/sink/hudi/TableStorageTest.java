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
}
