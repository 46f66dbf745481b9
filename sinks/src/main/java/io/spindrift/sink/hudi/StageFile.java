package io.spindrift.sink.hudi;

import io.spindrift.sink.StageRows;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.RebaseDateTime.RebaseSpec;
import org.apache.spark.sql.execution.datasources.DataSourceUtils;
import org.apache.spark.sql.execution.datasources.parquet.ParquetOptions;
import org.apache.spark.sql.execution.datasources.parquet.ParquetReadSupport;
import org.apache.spark.sql.execution.datasources.parquet.ParquetReadSupport$;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.execution.datasources.parquet.ParquetUtils;
import org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import scala.Function1;
import scala.Option;

/**
 * A batch's staged rows for a Hudi table: one Parquet file outside the table, written by the driver with Spark's
 * own Parquet write support. Hudi cannot write data files without committing them, so the rows wait here until
 * publish reads them back (on the driver, with Spark's Parquet read support); the file's path is the stage ref.
 *
 * <p>A stage is small (one batch's rows) and is written and read whole, in memory: written, one S3 PUT after S3A's
 * check that no directory has its name (Spark's output writer also asks whether a file has it, a HEAD, and would
 * refuse to replace one); read, S3A's HEAD and one GET, without the Spark reader's set-up per file (a broadcast of
 * the Hadoop settings, a second open for the footer).
 */
final class StageFile {
  private StageFile() {}

  /** Writes {@code rows} (laid out as {@code schema}) to {@code path}, replacing a file a failed try left there. */
  static void write(SparkSession spark, String path, StructType schema, List<InternalRow> rows) {
    SQLConf sqlConf = spark.sessionState().conf();
    try {
      Job job = Job.getInstance(spark.sessionState().newHadoopConf());
      // the settings Spark's own Parquet writes use (legacy format, timestamp type, codec), set on the job's conf
      ParquetUtils.prepareWrite(sqlConf, job, schema,
          new ParquetOptions(scala.collection.immutable.Map$.MODULE$.<String, String>empty(), sqlConf));
      Configuration conf = job.getConfiguration();
      InMemoryFile file = new InMemoryFile();
      try (ParquetWriter<InternalRow> writer = new RowWriter(file)
          .withCompressionCodec(CompressionCodecName.fromConf(conf.get(ParquetOutputFormat.COMPRESSION)))
          .withConf(conf)
          .build()) {
        for (InternalRow row : rows) {
          writer.write(row);
        }
      }
      Path target = new Path(path);
      try (FSDataOutputStream out = target.getFileSystem(conf).create(target, true)) {
        file.bytes().writeTo(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write staged rows to " + path, e);
    }
  }

  /**
   * The rows of a stage file, with the schema they were staged with (nullable, as Spark reads files back), read on
   * the driver with Spark's Parquet read support: no Spark job (reading it as a data set would run two, a schema
   * read and the scan, in another container's publish).
   */
  static StageRows read(SparkSession spark, String path) {
    SQLConf sqlConf = spark.sessionState().conf();
    Configuration conf = spark.sessionState().newHadoopConf();
    Path file = new Path(path);
    try {
      byte[] bytes;
      try (FSDataInputStream in = file.getFileSystem(conf).open(file)) {
        bytes = in.readAllBytes();
      }
      InputFile input = new BytesInputFile(bytes);
      FileMetaData footer;
      try (ParquetFileReader reader = ParquetFileReader.open(input)) {
        footer = reader.getFileMetaData();
      }
      readSettings(conf, sqlConf);
      StructType schema = schema(footer, conf).asNullable();
      conf.set(ParquetReadSupport$.MODULE$.SPARK_ROW_REQUESTED_SCHEMA(), schema.json());
      // as Spark's Parquet reader decides, from the file's footer and the session's settings
      Map<String, String> fileMeta = footer.getKeyValueMetaData();
      ParquetOptions options =
          new ParquetOptions(scala.collection.immutable.Map$.MODULE$.<String, String>empty(), sqlConf);
      Function1<String, String> lookup = fileMeta::get;
      RebaseSpec datetime = DataSourceUtils.datetimeRebaseSpec(lookup, options.datetimeRebaseModeInRead());
      RebaseSpec int96 = DataSourceUtils.int96RebaseSpec(lookup, options.int96RebaseModeInRead());
      // Spark converts INT96 time zones only for files parquet-mr did not write; Spark's writer is parquet-mr
      ParquetReadSupport support = new ParquetReadSupport(Option.empty(), false, datetime, int96);
      List<InternalRow> out = new ArrayList<>();
      try (ParquetReader<InternalRow> reader = new RowReader(input, support).withConf(conf).build()) {
        for (InternalRow row = reader.read(); row != null; row = reader.read()) {
          out.add(row.copy()); // the reader reuses its row
        }
      }
      return new StageRows(schema, out);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read staged rows from " + path, e);
    }
  }

  /** The settings Spark's Parquet reader sets for its read support and schema converter, from the session's. */
  private static void readSettings(Configuration conf, SQLConf sqlConf) {
    conf.set(SQLConf.SESSION_LOCAL_TIMEZONE().key(), sqlConf.sessionLocalTimeZone());
    conf.setBoolean(SQLConf.NESTED_SCHEMA_PRUNING_ENABLED().key(), sqlConf.nestedSchemaPruningEnabled());
    conf.setBoolean(SQLConf.CASE_SENSITIVE().key(), sqlConf.caseSensitiveAnalysis());
    conf.setBoolean(SQLConf.PARQUET_BINARY_AS_STRING().key(), sqlConf.isParquetBinaryAsString());
    conf.setBoolean(SQLConf.PARQUET_INT96_AS_TIMESTAMP().key(), sqlConf.isParquetINT96AsTimestamp());
    conf.setBoolean(SQLConf.PARQUET_INFER_TIMESTAMP_NTZ_ENABLED().key(), sqlConf.parquetInferTimestampNTZEnabled());
    conf.setBoolean(SQLConf.LEGACY_PARQUET_NANOS_AS_LONG().key(), sqlConf.legacyParquetNanosAsLong());
  }

  /** The Spark schema the file was written with (Spark's writer keeps it in the footer), else its Parquet schema's. */
  private static StructType schema(FileMetaData footer, Configuration conf) {
    String json = footer.getKeyValueMetaData().get(ParquetReadSupport$.MODULE$.SPARK_METADATA_KEY());
    if (json != null) {
      return (StructType) DataType.fromJson(json);
    }
    return new ParquetToSparkSchemaConverter(conf).convert(footer.getSchema());
  }

  /** Parquet's writer of Spark's rows (Spark's write support), into {@code file}. */
  private static final class RowWriter extends ParquetWriter.Builder<InternalRow, RowWriter> {
    RowWriter(OutputFile file) {
      super(file);
      withWriteMode(ParquetFileWriter.Mode.OVERWRITE);
    }

    @Override
    protected RowWriter self() {
      return this;
    }

    @Override
    protected WriteSupport<InternalRow> getWriteSupport(Configuration conf) {
      return new ParquetWriteSupport();
    }
  }

  /** Parquet's reader of Spark's rows, with {@code support}. */
  private static final class RowReader extends ParquetReader.Builder<InternalRow> {
    private final ParquetReadSupport support;

    RowReader(InputFile file, ParquetReadSupport support) {
      super(file);
      this.support = support;
    }

    @Override
    protected ReadSupport<InternalRow> getReadSupport() {
      return support;
    }
  }

  /**
   * A Parquet file written to memory. Parquet's own in-memory files are test classes, not served; this is the
   * least an {@link OutputFile} needs.
   */
  private static final class InMemoryFile implements OutputFile {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    ByteArrayOutputStream bytes() {
      return bytes;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) {
      return createOrOverwrite(blockSizeHint);
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) {
      bytes.reset();
      return new PositionOutputStream() {
        @Override
        public long getPos() {
          return bytes.size();
        }

        @Override
        public void write(int b) {
          bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
          bytes.write(b, off, len);
        }
      };
    }

    @Override
    public boolean supportsBlockSize() {
      return false;
    }

    @Override
    public long defaultBlockSize() {
      return 0;
    }
  }

  /** A Parquet file read whole into memory (as {@link InMemoryFile}: Parquet serves none). */
  private static final class BytesInputFile implements InputFile {
    private final byte[] bytes;

    BytesInputFile(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public long getLength() {
      return bytes.length;
    }

    @Override
    public SeekableInputStream newStream() {
      ByteArrayInputStream in = new ByteArrayInputStream(bytes);
      return new DelegatingSeekableInputStream(in) {
        @Override
        public long getPos() {
          return bytes.length - in.available();
        }

        @Override
        public void seek(long newPos) {
          in.reset(); // to the start: the stream is never marked elsewhere
          in.skip(newPos);
        }
      };
    }
  }
}
