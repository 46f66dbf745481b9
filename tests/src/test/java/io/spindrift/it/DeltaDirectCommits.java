package io.spindrift.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.delta.actions.SetTransaction;
import org.apache.spark.sql.delta.util.FileNames;
import org.apache.spark.sql.execution.datasources.OutputWriter;
import org.apache.spark.sql.execution.datasources.parquet.ParquetOptions;
import org.apache.spark.sql.execution.datasources.parquet.ParquetUtils;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Delta commits with the actions the sink's warm publish writes, without its stage: the rows are written as one
 * Parquet file by Spark's Parquet writer on the driver (no Spark job) and put in the table's directory, and the next
 * log version ({@code commitInfo} with the {@link CommitTag} in its tags and userMetadata, the {@code add}, the
 * app's {@code txn}) is put as {@code _delta_log/<version>.json}, with a checkpoint at the table's
 * {@code delta.checkpointInterval} as the sink's post-commit makes it. Each file is one S3 put: a single writer's
 * commit, without the product log store's claim in DynamoDB and copy from a temp file, which make a commit safe
 * with many writers and cost about eight requests (docs/PERFORMANCE.md, "Table health"). Unpartitioned tables only.
 */
final class DeltaDirectCommits implements DirectCommits {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final DeltaLog log;
  private final Path location;
  private final StructType schema;
  private final int checkpointInterval;
  private final String engineInfo;
  private long version;

  DeltaDirectCommits(SparkSession spark, S3Client s3, String location) {
    this.spark = spark;
    this.s3 = s3;
    String path = location.replaceFirst("^s3a?://", "");
    this.bucket = path.substring(0, path.indexOf('/'));
    this.prefix = path.substring(path.indexOf('/') + 1) + "/";
    this.location = new Path(location);
    this.log = DeltaLog.forTable(spark, this.location);
    Snapshot snapshot = log.update(false, Option.empty(), Option.empty());
    if (snapshot.version() < 0 || !snapshot.metadata().partitionColumns().isEmpty()) {
      throw new IllegalArgumentException("Invalid table for direct commits (missing or partitioned): " + location);
    }
    this.version = snapshot.version();
    this.schema = snapshot.schema();
    this.checkpointInterval = log.checkpointInterval(snapshot.metadata());
    this.engineInfo = "Apache-Spark/" + spark.version() + " Delta-Lake/" + io.delta.package$.MODULE$.VERSION();
  }

  @Override
  public void commit(CommitTag tag, List<InternalRow> rows) {
    String name = String.format("spindrift-%s-%05d.parquet", tag.txnId(), 0);
    long length = put(name, rows);
    String stats = "{\"numRecords\":" + rows.size() + "}";
    AddFile add = new AddFile(name, emptyMap(), length, System.currentTimeMillis(), true, stats, null,
        null, Option.empty(), Option.empty(), Option.empty());
    Map<String, String> tags = CommitTag.entries(List.of(new PendingPublish(tag, null)));
    List<String> lines = new ArrayList<>();
    lines.add(commitInfo(tag, tags, rows.size(), length));
    lines.add(add.json());
    lines.add(new SetTransaction(tag.app(), tag.seq(), Option.apply(System.currentTimeMillis())).json());
    long next = version + 1;
    s3.putObject(b -> b.bucket(bucket).key(prefix + "_delta_log/" + FileNames.unsafeDeltaFile(log.logPath(), next)
        .getName()), RequestBody.fromString(String.join("\n", lines) + "\n"));
    version = next;
    if (version % checkpointInterval == 0) {
      log.checkpoint(log.update(false, Option.empty(), Option.empty()), Option.empty());
    }
  }

  /** The commit's {@code commitInfo} line, with the fields the sink's warm publish writes. */
  private String commitInfo(CommitTag tag, Map<String, String> tags, long rows, long bytes) {
    ObjectNode info = JSON.createObjectNode();
    info.put("timestamp", System.currentTimeMillis());
    info.put("operation", "STREAMING UPDATE");
    ObjectNode parameters = info.putObject("operationParameters");
    parameters.put("outputMode", "Append");
    parameters.put("queryId", tag.app());
    parameters.put("epochId", Long.toString(tag.seq()));
    info.put("readVersion", version);
    info.put("isolationLevel", "Serializable");
    info.put("isBlindAppend", true);
    ObjectNode metrics = info.putObject("operationMetrics");
    metrics.put("numAddedFiles", "1");
    metrics.put("numRemovedFiles", "0");
    metrics.put("numOutputRows", Long.toString(rows));
    metrics.put("numOutputBytes", Long.toString(bytes));
    tags.forEach(info.putObject("tags")::put);
    try {
      info.put("userMetadata", JSON.writeValueAsString(tags));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    info.put("engineInfo", engineInfo);
    info.put("txnId", UUID.randomUUID().toString());
    ObjectNode line = JSON.createObjectNode();
    line.set("commitInfo", info);
    return line.toString();
  }

  /** Puts {@code rows} as the table's data file {@code name}; returns its length. */
  private long put(String name, List<InternalRow> rows) {
    java.nio.file.Path local = null;
    try {
      local = Files.createTempFile("spindrift-delta-direct", ".parquet");
      Files.delete(local);
      Path file = new Path(local.toUri());
      long length = write(file, rows);
      s3.putObject(b -> b.bucket(bucket).key(prefix + name), RequestBody.fromFile(local));
      return length;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write data file " + name, e);
    } finally {
      if (local != null) {
        deleteQuietly(local);
        deleteQuietly(local.resolveSibling("." + local.getFileName() + ".crc"));
      }
    }
  }

  private static void deleteQuietly(java.nio.file.Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete temp file " + file, e);
    }
  }

  /** Writes {@code rows} to the local {@code file} with Spark's Parquet writer on the driver; returns its length. */
  private long write(Path file, List<InternalRow> rows) throws IOException {
    SQLConf conf = spark.sessionState().conf();
    Job job = Job.getInstance(spark.sessionState().newHadoopConf());
    OutputWriter writer = ParquetUtils.prepareWrite(conf, job, schema, new ParquetOptions(emptyMap(), conf))
        .newInstance(file.toString(), schema, new TaskAttemptContextImpl(job.getConfiguration(), new TaskAttemptID()));
    try {
      rows.forEach(writer::write);
    } finally {
      writer.close();
    }
    return file.getFileSystem(job.getConfiguration()).getFileStatus(file).getLen();
  }

  private static scala.collection.immutable.Map<String, String> emptyMap() {
    return scala.collection.immutable.Map$.MODULE$.empty();
  }
}
