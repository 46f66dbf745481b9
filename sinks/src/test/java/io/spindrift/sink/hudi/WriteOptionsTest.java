package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.SinkSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.common.bootstrap.index.BootstrapIndex;
import org.apache.hudi.common.bootstrap.index.NoOpBootstrapIndex;
import org.apache.hudi.common.model.HoodieTableType;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The table properties a new Hudi table gets, as Hudi reads them back from {@code hoodie.properties}, and the
 * publish client's settings as Hudi's config builder accepts them.
 */
class WriteOptionsTest {
  @TempDir
  Path dir;

  @Test
  void aNewTableHasNoBootstrapIndexForItsTableViewsToLookFor() throws IOException {
    String location = dir.toUri().toString().replaceAll("/$", "");
    Schema schema = SchemaBuilder.record("page_views").namespace("analytics").fields()
        .requiredString("id").endRecord();
    WriteOptions options = new WriteOptions(SinkSpec.hudi("analytics.page_views"), HoodieTableType.COPY_ON_WRITE,
        location, null);

    HoodieTableMetaClient.withPropertyBuilder().fromProperties(options.tableProperties(schema))
        .initTable(HadoopFSUtils.getStorageConf(new Configuration()), location);
    HoodieTableMetaClient meta = HoodieTableMetaClient.builder()
        .setConf(HadoopFSUtils.getStorageConf(new Configuration())).setBasePath(location).build();

    assertThat(meta.getTableConfig().getBootstrapIndexClass()).isEqualTo(NoOpBootstrapIndex.class.getName());
    assertThat(BootstrapIndex.getBootstrapIndex(meta)).isInstanceOf(NoOpBootstrapIndex.class);
  }

  /**
   * The active timeline a publish lists keeps 12 to 15 commits (archival's bounds), while the cleaner keeps the
   * files of the last 10: Hudi's config builder refuses a minimum at or below the cleaner's retention.
   */
  @Test
  void thePublishClientKeepsAShortActiveTimelineAboveTheCleanersRetention() {
    Schema schema = SchemaBuilder.record("page_views").namespace("analytics").fields()
        .requiredString("id").endRecord();
    AwsSettings aws = new AwsSettings(Map.of(), "us-east-1", "", "", "");
    HudiSettings settings = new HudiSettings(aws, HoodieTableType.COPY_ON_WRITE, false, "locks", "leases", 0,
        HudiSettings.WriteClient.JAVA, new HudiSettings.Clustering(10, 96L << 20, 128L << 20));
    WriteOptions options = new WriteOptions(SinkSpec.hudi("analytics.page_views"), HoodieTableType.COPY_ON_WRITE,
        dir.toUri().toString(), settings);

    for (WriteOptions.Role role : WriteOptions.Role.values()) {
      HoodieWriteConfig config = options.publishConfig(schema, role);
      assertThat(config.getMinCommitsToKeep()).as(role.name()).isEqualTo(12);
      assertThat(config.getMaxCommitsToKeep()).as(role.name()).isEqualTo(15);
      assertThat(config.getCleanerCommitsRetained()).as(role.name()).isEqualTo(10).isLessThan(12);
    }
  }
}
