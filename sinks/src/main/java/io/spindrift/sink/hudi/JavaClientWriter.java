package io.spindrift.sink.hudi;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hudi.client.HoodieJavaWriteClient;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.client.common.HoodieJavaEngineContext;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.storage.StorageConfiguration;

/**
 * Hudi's Java write client ({@code hudi-java-client}): a commit's index lookup, workload profile, file writes,
 * marker handling and completion run in the calling JVM, on the Hadoop configuration (S3A) it is given, so a
 * publish starts no Spark job. Tables it writes are ordinary Hudi tables (same timeline, same files) for Spark
 * readers, the Spark client's table services and other writers.
 */
final class JavaClientWriter implements HudiWriter {
  private final HoodieJavaWriteClient<OverwriteWithLatestAvroPayload> client;

  JavaClientWriter(StorageConfiguration<?> storage, HoodieWriteConfig config) {
    this.client = new HoodieJavaWriteClient<>(new HoodieJavaEngineContext(storage), config);
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
  public void clean() {
    client.clean();
  }

  @Override
  public void close() {
    client.close();
  }
}
