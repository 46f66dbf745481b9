package io.spindrift.sink.hudi;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.client.HoodieJavaWriteClient;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.client.common.HoodieJavaEngineContext;
import org.apache.hudi.common.engine.HoodieEngineContext;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.storage.StorageConfiguration;
import org.apache.hudi.table.HoodieJavaTable;
import org.apache.hudi.table.HoodieTable;

/**
 * Hudi's Java write client ({@code hudi-java-client}): a commit's index lookup, workload profile, file writes,
 * marker handling and completion run in the calling JVM, on the Hadoop configuration (S3A) it is given, so a
 * publish starts no Spark job. Tables it writes are ordinary Hudi tables (same timeline, same files) for Spark
 * readers, the Spark client's table services and other writers.
 *
 * <p>The client keeps one meta client of the table for its life ({@link WarmMetaClient}): Hudi builds a new one
 * (checking the table's directories and reading {@code hoodie.properties}, about eight S3 requests) four times in
 * a commit; the warm one only reloads its active timeline (one listing), so every step still sees every other
 * writer's instants.
 */
final class JavaClientWriter implements HudiWriter {
  private final WarmMetaClient client;

  JavaClientWriter(StorageConfiguration<?> storage, HoodieWriteConfig config) {
    this.client = new WarmMetaClient(new HoodieJavaEngineContext(storage), config);
  }

  @Override
  public String startCommit() {
    return client.startCommit();
  }

  @Override
  public List<WriteStatus> write(String instant, List<HoodieRecord<OverwriteWithLatestAvroPayload>> records,
      boolean upsert) {
    return upsert ? client.upsert(records, instant) : client.insert(records, instant);
  }

  @Override
  public boolean commit(String instant, List<WriteStatus> written, Map<String, String> metadata, String actionType,
      BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> check) {
    return client.commit(instant, written, Option.of(metadata), actionType, Map.of(), Option.of(check));
  }

  @Override
  public void abandon(String instant) {
    client.rollback(instant);
  }

  @Override
  public void clean() {
    client.clean();
  }

  @Override
  public void archive() {
    client.archive();
  }

  @Override
  public void close() {
    client.close();
  }

  /**
   * Hudi's Java client whose meta clients are one, built on first use and then reloaded: its timeline is read
   * again for every meta client Hudi asks for, its table config ({@code hoodie.properties}: table type, key fields,
   * version, which only an upgrade by another Hudi version changes) is the one read when the client was built.
   */
  private static final class WarmMetaClient extends HoodieJavaWriteClient<OverwriteWithLatestAvroPayload> {
    private HoodieTableMetaClient meta;

    WarmMetaClient(HoodieEngineContext context, HoodieWriteConfig config) {
      super(context, config);
    }

    @Override
    protected HoodieTableMetaClient createMetaClient(boolean loadActiveTimelineOnLoad) {
      if (meta == null) {
        meta = super.createMetaClient(true);
      } else {
        meta.reloadActiveTimeline();
      }
      return meta;
    }

    @Override
    protected HoodieTable createTable(HoodieWriteConfig config, Configuration hadoopConf) {
      return HoodieJavaTable.create(config, context, createMetaClient(true));
    }

    /**
     * Hudi builds a table for archival after every commit (a timeline reload and a read of
     * {@code hoodie.properties}) before it looks at whether automatic cleaning or archival is on; with both off (a
     * rejects table, whose services the sink runs before its commit) that work is skipped.
     */
    @Override
    protected void mayBeCleanAndArchive(HoodieTable table) {
      if (getConfig().isAutoClean() || getConfig().isAutoArchive()) {
        super.mayBeCleanAndArchive(table);
      }
    }
  }
}
