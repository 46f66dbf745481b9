package io.spindrift.sink.hudi;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hudi.client.SparkRDDWriteClient;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.client.common.HoodieSparkEngineContext;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.util.Option;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.data.HoodieJavaRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Hudi's Spark write client: the records are parallelized over Spark's executors (a task per
 * {@link #ROWS_PER_WRITE_TASK} rows, at most the default parallelism), and the index lookup, workload profile, file
 * writes and marker clean-up run as Spark jobs (four to six per commit).
 */
final class SparkClientWriter implements HudiWriter {
  private static final int ROWS_PER_WRITE_TASK = 50_000;

  private final JavaSparkContext jsc;
  private final SparkRDDWriteClient<OverwriteWithLatestAvroPayload> client;
  /** The statuses of the write in progress, for the commit (an RDD: committing from it runs no second job). */
  private JavaRDD<WriteStatus> statuses;

  SparkClientWriter(JavaSparkContext jsc, HoodieWriteConfig config) {
    this.jsc = jsc;
    this.client = new SparkRDDWriteClient<>(new HoodieSparkEngineContext(jsc), config);
  }

  @Override
  public String startCommit() {
    return client.startCommit();
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"}) // payload records only: this writer never inserts plain ones
  public List<WriteStatus> write(String instant, List<HoodieRecord<?>> records, boolean upsert) {
    int tasks = (int) Math.max(1, Math.min(jsc.defaultParallelism(), records.size() / ROWS_PER_WRITE_TASK));
    JavaRDD<HoodieRecord<OverwriteWithLatestAvroPayload>> input = jsc.parallelize((List) records, tasks);
    statuses = upsert ? client.upsert(input, instant) : client.insert(input, instant);
    return statuses.collect();
  }

  /** What {@code client.commit} does, without its second Spark job to collect the write stats already collected. */
  @Override
  public boolean commit(String instant, List<WriteStatus> written, Map<String, String> metadata, String actionType,
      BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> check) {
    // Hudi hands the check the meta client of the table it built before taking its lock: read again under it
    BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> underLock = (meta, commit) -> {
      meta.reloadActiveTimeline();
      check.accept(meta, commit);
    };
    return client.commitStats(instant, HoodieJavaRDD.of(statuses), written.stream().map(WriteStatus::getStat).toList(),
        Option.of(metadata), actionType, Map.of(), Option.of(underLock));
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
}
