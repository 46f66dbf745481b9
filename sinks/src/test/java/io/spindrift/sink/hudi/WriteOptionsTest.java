package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.SinkSpec;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.common.bootstrap.index.BootstrapIndex;
import org.apache.hudi.common.bootstrap.index.NoOpBootstrapIndex;
import org.apache.hudi.common.model.HoodieTableType;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table properties a new Hudi table gets, as Hudi reads them back from {@code hoodie.properties}. */
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
}
