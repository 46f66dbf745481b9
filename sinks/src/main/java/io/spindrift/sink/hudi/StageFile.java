package io.spindrift.sink.hudi;

import io.spindrift.sink.StageRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.paths.SparkPath;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.datasources.OutputWriter;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat;
import org.apache.spark.sql.execution.datasources.parquet.ParquetOptions;
import org.apache.spark.sql.execution.datasources.parquet.ParquetReadSupport$;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.execution.datasources.parquet.ParquetUtils;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.sources.Filter;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import scala.Function1;

/**
 * A batch's staged rows for a Hudi table: one Parquet file outside the table, written by the driver with Spark's
 * own Parquet writer. Hudi cannot write data files without committing them, so the rows wait here until publish
 * reads them back (on the driver, with Spark's Parquet reader); the file's path is the stage ref.
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
      OutputWriter writer;
      try {
        writer = factory.newInstance(path, schema, task);
      } catch (Exception exists) {
        // Spark's writer does not overwrite: a stage path is new for every try, so this is rare, and checking first
        // would cost every stage two S3 requests (S3A's HEAD and LIST)
        if (!(exists instanceof FileAlreadyExistsException)) {
          throw exists;
        }
        Path file = new Path(path);
        file.getFileSystem(job.getConfiguration()).delete(file, false);
        writer = factory.newInstance(path, schema, task);
      }
      try {
        rows.forEach(writer::write);
      } finally {
        writer.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged rows to " + path, e);
    }
  }

  /**
   * The rows of a stage file, with the schema they were staged with (nullable, as Spark reads files back), read on
   * the driver with Spark's Parquet reader: no Spark job (reading it as a data set would run two, a schema read and
   * the scan, in another container's publish).
   */
  static StageRows read(SparkSession spark, String path) {
    Configuration conf = spark.sessionState().newHadoopConf();
    Path file = new Path(path);
    try {
      FileStatus status = file.getFileSystem(conf).getFileStatus(file);
      StructType schema = schema(HadoopInputFile.fromStatus(status, conf), conf).asNullable();
      scala.collection.immutable.List<Filter> filters = scala.collection.immutable.List$.MODULE$.empty();
      Function1<PartitionedFile, scala.collection.Iterator<InternalRow>> reader = new ParquetFileFormat()
          .buildReaderWithPartitionValues(spark, schema, new StructType(), schema, filters,
              scala.collection.immutable.Map$.MODULE$.<String, String>empty().updated("returning_batch", "false"), conf);
      scala.collection.Iterator<InternalRow> rows = reader.apply(new PartitionedFile(InternalRow.empty(),
          SparkPath.fromPath(file), 0L, status.getLen(), new String[0], 0L, status.getLen(),
          scala.collection.immutable.Map$.MODULE$.empty()));
      List<InternalRow> out = new ArrayList<>();
      while (rows.hasNext()) {
        out.add(rows.next().copy());
      }
      return new StageRows(schema, out);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read staged rows from " + path, e);
    }
  }

  /** The Spark schema the file was written with (Spark's writer keeps it in the footer), else its Parquet schema's. */
  private static StructType schema(HadoopInputFile input, Configuration conf) throws IOException {
    try (ParquetFileReader footer = ParquetFileReader.open(input)) {
      String json = footer.getFileMetaData().getKeyValueMetaData().get(ParquetReadSupport$.MODULE$.SPARK_METADATA_KEY());
      if (json != null) {
        return (StructType) DataType.fromJson(json);
      }
      return new ParquetToSparkSchemaConverter(conf).convert(footer.getFileMetaData().getSchema());
    }
  }
}
