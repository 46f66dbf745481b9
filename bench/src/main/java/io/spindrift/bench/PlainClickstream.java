package io.spindrift.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.to_date;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.examples.Clickstream;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import scala.collection.JavaConverters;

/**
 * The example Clickstream job written as a plain Spark Structured Streaming query: the same JSON parse (schema
 * {@link Clickstream#EVENT}), the same derived columns, the same table columns, written with Iceberg's own
 * streaming sink. Its input is a {@link MemoryStream} of the raw payloads (column {@code value}, binary).
 */
final class PlainClickstream {
  private static final AtomicInteger STREAM_IDS = new AtomicInteger(1_000);

  private PlainClickstream() {}

  static Dataset<Row> transform(Dataset<Row> payloads) {
    return payloads.select(from_json(col("value").cast("string"), Clickstream.EVENT).as("event"))
        .select("event.*")
        .withColumn("action", lower(col("action")))
        .withColumn("event_date", to_date(col("ts")));
  }

  /**
   * A session of the JVM's SparkSession (the runtime's settings) that reaches the same Iceberg catalog as the
   * runtime, under the same name and with the same properties (its table cache off, as the runtime has it).
   */
  static SparkSession session(SpindriftConfig config) {
    SparkSession session = SpindriftRuntime.sparkSession(config).newSession();
    String catalog = "spark.sql.catalog." + config.get(Setting.CATALOG_NAME);
    session.conf().set(catalog, "org.apache.iceberg.spark.SparkCatalog");
    session.conf().set(catalog + ".cache-enabled", "false");
    SpindriftRuntime.catalogSettings(config).properties()
        .forEach((key, value) -> session.conf().set(catalog + "." + key, value));
    return session;
  }

  /**
   * Starts {@code writer} into {@code table} with {@code session} active: Spark resolves the table's catalog
   * through the calling thread's active session ({@code SQLConf.get}), not the Dataset's.
   */
  static StreamingQuery start(SparkSession session, DataStreamWriter<Row> writer, String table)
      throws TimeoutException {
    Option<SparkSession> previous = SparkSession.getActiveSession();
    SparkSession.setActiveSession(session);
    try {
      return writer.toTable(table);
    } finally {
      if (previous.isDefined()) {
        SparkSession.setActiveSession(previous.get());
      } else {
        SparkSession.clearActiveSession();
      }
    }
  }

  /** A memory source of binary payloads, read in {@code partitions} splits per batch. */
  static MemoryStream<byte[]> source(SparkSession spark, int partitions) {
    return new MemoryStream<>(STREAM_IDS.incrementAndGet(), spark.sqlContext(), Option.apply((Object) partitions),
        Encoders.BINARY());
  }

  static void add(MemoryStream<byte[]> source, List<byte[]> payloads) {
    source.addData(JavaConverters.asScalaBuffer(payloads));
  }

  /** Creates the Iceberg table (format 2, like Spindrift's sink) for the query's output, if absent. */
  static void createTable(SparkSession spark, String table) {
    StructType input = new StructType().add("value", DataTypes.BinaryType);
    StructType output = transform(spark.createDataFrame(List.of(), input)).schema();
    String namespace = table.substring(0, table.lastIndexOf('.'));
    spark.sql("CREATE NAMESPACE IF NOT EXISTS " + namespace);
    spark.sql("CREATE TABLE IF NOT EXISTS " + table + " (" + output.toDDL() + ") USING iceberg "
        + "TBLPROPERTIES ('format-version'='2')");
  }

  /** Spindrift's own split rule, so both read a batch with the same parallelism. */
  static int partitionsFor(int records, int parallelism) {
    return Math.max(1, Math.min(parallelism, records / 500));
  }
}
