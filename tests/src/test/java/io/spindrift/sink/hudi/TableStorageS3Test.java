package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.local.LocalStack;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.storage.StoragePath;
import org.junit.jupiter.api.Test;

/**
 * The table storage on S3 (s3proxy): a file of the timeline or a marker is one PUT, without S3A's checks of its
 * name; {@code hoodie.properties} and data files are written through S3A as before. Counted with S3A's own
 * statistics.
 */
class TableStorageS3Test {
  private static final SpindriftConfig CONFIG = LocalPipeline.config(LocalStack.shared(), Map.of());

  private static Configuration s3a() {
    Configuration conf = new Configuration();
    conf.set("fs.s3a.endpoint", CONFIG.get(Setting.S3_ENDPOINT));
    conf.set("fs.s3a.path.style.access", "true");
    conf.set("fs.s3a.connection.ssl.enabled", "false");
    conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    conf.set("fs.s3a.access.key", CONFIG.get(Setting.ACCESS_KEY));
    conf.set("fs.s3a.secret.key", CONFIG.get(Setting.SECRET_KEY));
    conf.set("fs.s3a.endpoint.region", CONFIG.get(Setting.REGION));
    return conf;
  }

  /** S3A's request counts: HEADs and LISTs (checks), PUTs. */
  private record Requests(long checks, long puts) {
    static Requests of(S3AFileSystem s3) {
      var stats = s3.getStorageStatistics();
      return new Requests(stats.getLong("object_metadata_request") + stats.getLong("object_list_request"),
          stats.getLong("object_put_request"));
    }

    Requests since(Requests before) {
      return new Requests(checks - before.checks, puts - before.puts);
    }
  }

  /** S3A's request counts: HEADs, LISTs, PUTs, DELETEs (single and bulk). */
  private record AllRequests(long heads, long lists, long puts, long deletes) {
    static AllRequests of(S3AFileSystem s3) {
      var stats = s3.getStorageStatistics();
      return new AllRequests(stats.getLong("object_metadata_request"), stats.getLong("object_list_request"),
          stats.getLong("object_put_request"),
          stats.getLong("object_delete_request") + stats.getLong("object_bulk_delete_request"));
    }

    AllRequests since(AllRequests before) {
      return new AllRequests(heads - before.heads, lists - before.lists, puts - before.puts,
          deletes - before.deletes);
    }
  }

  /**
   * An instant's marker directory goes in one LIST and one bulk DELETE, whatever it holds, and is known gone after;
   * a timeline file and a heartbeat file are one DELETE each; a data file still goes through S3A's delete. The
   * storage Hudi builds itself when its settings name the class ({@code hoodie.storage.class}) is this one.
   */
  @Test
  void markerDirectoriesTimelineFilesAndHeartbeatsAreDeletedWithoutS3asChecks() throws Exception {
    Configuration conf = s3a();
    String base = "s3a://" + CONFIG.get(Setting.BUCKET) + "/warehouse/it/storage_" + UUID.randomUUID();
    conf.set(TableStorage.STORAGE_CLASS, TableStorage.class.getName());
    var built = org.apache.hudi.storage.HoodieStorageUtils.getStorage(base, HadoopFSUtils.getStorageConf(conf));
    assertThat(built).as("the storage Hudi builds by its setting").isInstanceOf(TableStorage.class);
    TableStorage storage = (TableStorage) built;
    S3AFileSystem s3 = (S3AFileSystem) new Path(base).getFileSystem(conf);
    String markers = base + "/.hoodie/.temp/20261205180000000";
    write(storage, base + "/.hoodie/hoodie.properties", "hoodie.table.name=t");
    write(storage, markers + "/f1_0-1-0_20261205180000000.parquet.marker.CREATE", "");
    write(storage, markers + "/f2_0-1-0_20261205180000000.parquet.marker.CREATE", "");
    write(storage, markers + "/f3_0-1-0_20261205180000000.parquet.marker.MERGE", "");
    write(storage, base + "/.hoodie/20261205180000000.commit", "{}");
    write(storage, base + "/.hoodie/.heartbeat/20261205180000000", "");
    write(storage, base + "/f1_0-1-0_20261205180000000.parquet", "data");

    AllRequests before = AllRequests.of(s3);
    assertThat(storage.deleteMarkerDirectory(new StoragePath(markers))).isTrue();
    assertThat(AllRequests.of(s3).since(before)).as("three markers: one LIST, one bulk DELETE")
        .isEqualTo(new AllRequests(0, 1, 0, 1));
    assertThat(s3.exists(new Path(markers))).isFalse();
    before = AllRequests.of(s3);
    assertThat(storage.exists(new StoragePath(markers))).as("known gone").isFalse();
    assertThat(storage.deleteMarkerDirectory(new StoragePath(markers))).isFalse();
    assertThat(AllRequests.of(s3).since(before)).isEqualTo(new AllRequests(0, 0, 0, 0));

    before = AllRequests.of(s3);
    assertThat(storage.deleteFile(new StoragePath(base + "/.hoodie/20261205180000000.commit"))).isTrue();
    assertThat(storage.deleteFile(new StoragePath(base + "/.hoodie/.heartbeat/20261205180000000"))).isTrue();
    assertThat(AllRequests.of(s3).since(before)).as("one DELETE each").isEqualTo(new AllRequests(0, 0, 0, 2));
    assertThat(s3.exists(new Path(base + "/.hoodie/20261205180000000.commit"))).isFalse();
    assertThat(s3.exists(new Path(base + "/.hoodie/.heartbeat/20261205180000000"))).isFalse();
    assertThat(read(storage, base + "/.hoodie/hoodie.properties")).isEqualTo("hoodie.table.name=t");

    before = AllRequests.of(s3);
    assertThat(storage.deleteFile(new StoragePath(base + "/f1_0-1-0_20261205180000000.parquet"))).isTrue();
    AllRequests dataFile = AllRequests.of(s3).since(before);
    assertThat(dataFile.deletes()).isEqualTo(1);
    assertThat(dataFile.heads() + dataFile.lists()).as("S3A's checks around a data file's delete").isPositive();
    assertThat(s3.exists(new Path(base + "/f1_0-1-0_20261205180000000.parquet"))).isFalse();
  }

  @Test
  void timelineFilesAndMarkersAreOnePutEachAndTheRestGoesThroughS3a() throws Exception {
    Configuration conf = s3a();
    String base = "s3a://" + CONFIG.get(Setting.BUCKET) + "/warehouse/it/storage_" + UUID.randomUUID();
    TableStorage storage = TableStorage.of(base, HadoopFSUtils.getStorageConf(conf));
    S3AFileSystem s3 = (S3AFileSystem) new Path(base).getFileSystem(conf);

    Requests before = Requests.of(s3);
    write(storage, base + "/.hoodie/20261205170000000.commit.requested", "requested");
    write(storage, base + "/.hoodie/.temp/20261205170000000/f1_0-1-0_20261205170000000.parquet.marker.CREATE", "");
    assertThat(Requests.of(s3).since(before)).as("two files, one PUT each and no check")
        .isEqualTo(new Requests(0, 2));

    before = Requests.of(s3);
    write(storage, base + "/f1_0-1-0_20261205170000000.parquet", "data");
    write(storage, base + "/.hoodie/hoodie.properties", "hoodie.table.name=t");
    Requests throughS3a = Requests.of(s3).since(before);
    assertThat(throughS3a.puts()).isEqualTo(2);
    assertThat(throughS3a.checks()).as("S3A's checks before each create").isPositive();

    assertThat(read(storage, base + "/.hoodie/20261205170000000.commit.requested")).isEqualTo("requested");
    assertThat(storage.exists(new StoragePath(base + "/.hoodie/.temp/20261205170000000/"
        + "f1_0-1-0_20261205170000000.parquet.marker.CREATE"))).isTrue();
    assertThat(read(storage, base + "/f1_0-1-0_20261205170000000.parquet")).isEqualTo("data");

    // written again (a failed try's file): replaced, and a stream closed twice is uploaded once
    before = Requests.of(s3);
    OutputStream out = storage.create(new StoragePath(base + "/.hoodie/20261205170000000.commit.requested"), false);
    out.write("again".getBytes(StandardCharsets.UTF_8));
    out.close();
    out.close();
    assertThat(Requests.of(s3).since(before)).isEqualTo(new Requests(0, 1));
    assertThat(read(storage, base + "/.hoodie/20261205170000000.commit.requested")).isEqualTo("again");
  }

  private static void write(TableStorage storage, String path, String content) throws Exception {
    try (OutputStream out = storage.create(new StoragePath(path), false)) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static String read(TableStorage storage, String path) throws Exception {
    try (InputStream in = storage.open(new StoragePath(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
