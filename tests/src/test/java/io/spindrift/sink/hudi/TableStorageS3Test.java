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
