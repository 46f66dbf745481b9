package io.spindrift.sink.delta;

import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;

/** Delta tables on the local file system for the warm path's unit tests, written by Delta itself. */
final class LocalDeltaTables {
  /**
   * The settings the test JVM's one SparkSession is built with, whichever test builds it first: those of
   * {@code LocalPipeline.config}, since a stateful runtime's state partitions are the session's shuffle partitions.
   */
  static final Map<String, String> JVM_SESSION = Map.of("SPINDRIFT_SHUFFLE_PARTITIONS", "2",
      "SPARK_MASTER", "local[2]");

  private LocalDeltaTables() {}

  /** A session of the test JVM's SparkSession set up for Delta as the sink sets up its own. */
  static SparkSession session() {
    SparkSession session = SpindriftRuntime.sparkSession(SpindriftConfig.of(JVM_SESSION)).newSession();
    S3aSettings.configureDelta(session);
    return session;
  }

  /** Creates {@code table} with one row {@code id = 'x'}, with {@code delta.<key>} table properties. */
  static void createWith(SparkSession spark, String table, Map<String, String> properties) {
    SparkSession withDefaults = spark.newSession();
    S3aSettings.configureDelta(withDefaults);
    properties.forEach((key, value) ->
        withDefaults.conf().set("spark.databricks.delta.properties.defaults." + key, value));
    withDefaults.createDataset(List.of("x"), Encoders.STRING()).toDF("id").write().format("delta").save(table);
  }

  /** The warm log of {@code table} as the sink loads it ({@code withFiles} for an upsert table). */
  static WarmLog warm(SparkSession spark, String table, boolean withFiles) {
    // a new DeltaLog checks the active session's catalog
    SparkSession.setActiveSession(spark);
    return WarmLog.load(DeltaLog.forTable(spark, new Path(table)), new Path(table), withFiles);
  }
}
