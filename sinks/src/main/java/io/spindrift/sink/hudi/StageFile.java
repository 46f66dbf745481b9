package io.spindrift.sink.hudi;

import io.spindrift.sink.StageRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.OutputWriter;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.execution.datasources.parquet.ParquetOptions;
import org.apache.spark.sql.execution.datasources.parquet.ParquetUtils;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.StructType;

/**
 * A batch's staged rows for a Hudi table: one Parquet file outside the table, written by the driver with Spark's
 * own Parquet writer. Hudi cannot write data files without committing them, so the rows wait here until publish
 * reads them back; the file's path is the stage ref.
 */
final class StageFile {
  private StageFile() {}

  /** Writes {@code rows} (laid out as {@code schema}) to {@code path}, replacing a file a failed try left there. */
  static void write(SparkSession spark, String path, StructType schema, List<InternalRow> rows) {
    SQLConf sqlConf = spark.sessionState().conf();
    try {
      Job job = Job.getInstance(spark.sessionState().newHadoopConf());
      OutputWriterFactory factory = ParquetUtils.prepareWrite(sqlConf, job, schema,
          new ParquetOptions(scala.collection.immutable.Map$.MODULE$.<String, String>empty(), sqlConf));
      TaskAttemptContext task = new TaskAttemptContextImpl(job.getConfiguration(), new TaskAttemptID());
      Path file = new Path(path);
      file.getFileSystem(job.getConfiguration()).delete(file, false);
      OutputWriter writer = factory.newInstance(path, schema, task);
      try {
        rows.forEach(writer::write);
      } finally {
        writer.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged rows to " + path, e);
    }
  }

  /** The rows of a stage file, with the schema they were staged with. */
  static StageRows read(SparkSession spark, String path) {
    Dataset<Row> file = spark.read().parquet(path);
    List<InternalRow> rows = file.queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    return new StageRows(file.schema(), rows);
  }
}
