package io.spindrift.it;

import io.spindrift.config.Setting;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.local.LocalStack;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The end-to-end tests' one local stack and one SparkSession per JVM; every test gets its own app and table, so
 * tests share nothing durable.
 */
final class TestPipeline {
  private TestPipeline() {}

  static LocalStack stack() {
    return LocalStack.shared();
  }

  /** A unique app name (and table name) for one test. */
  static String uniqueApp(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A fresh runtime (a "new container") for {@code app}, running the Clickstream job into {@code it.<app>}. */
  static SpindriftRuntime runtime(String app) {
    return runtime(app, Clickstream.class.getName());
  }

  static SpindriftRuntime runtime(String app, String job) {
    return runtime(app, Map.of("SPINDRIFT_JOB", job));
  }

  /** As {@link #runtime(String)}, with {@code overrides} replacing or adding settings (job, table, format…). */
  static SpindriftRuntime runtime(String app, Map<String, String> overrides) {
    Map<String, String> settings = new java.util.HashMap<>(Map.of(
        "SPINDRIFT_APP", app, "SPINDRIFT_JOB", Clickstream.class.getName(), "SPINDRIFT_SINK_TABLE", "it." + app));
    settings.putAll(overrides);
    return SpindriftRuntime.create(LocalPipeline.config(stack(), settings));
  }

  static String qualified(SpindriftRuntime runtime, String table) {
    return runtime.config().get(Setting.CATALOG_NAME) + "." + table;
  }

  static List<Row> rows(SpindriftRuntime runtime, String sql) {
    return runtime.spark().sql(sql).collectAsList();
  }

  static long count(SpindriftRuntime runtime, String table) {
    if (!runtime.catalog().tableExists(TableIdentifier.parse(table))) {
      return 0;
    }
    return runtime.spark().sql("SELECT count(*) FROM " + qualified(runtime, table)).first().getLong(0);
  }

  static long distinctEvents(SpindriftRuntime runtime, String table) {
    return runtime.spark().sql("SELECT count(DISTINCT event_id) FROM " + qualified(runtime, table)).first().getLong(0);
  }

  /**
   * A Spark session that reaches the local stack's S3 through plain S3A settings written here (no Spindrift code),
   * with Delta's catalog as the session catalog: what a user's reader would configure.
   */
  static SparkSession s3aReader(SpindriftRuntime runtime) {
    LocalStack stack = stack();
    SparkSession session = runtime.spark().newSession();
    session.conf().set("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    String bucket = "fs.s3a.bucket." + runtime.config().bucket() + ".";
    session.conf().set(bucket + "endpoint", stack.s3Endpoint());
    session.conf().set(bucket + "path.style.access", "true");
    session.conf().set(bucket + "connection.ssl.enabled", "false");
    session.conf().set(bucket + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    session.conf().set(bucket + "access.key", stack.accessKey());
    session.conf().set(bucket + "secret.key", stack.secretKey());
    return session;
  }

  /** The table's snapshots, oldest first. */
  static List<Snapshot> snapshots(SpindriftRuntime runtime, String table) {
    Table loaded = runtime.catalog().loadTable(TableIdentifier.parse(table));
    List<Snapshot> out = new ArrayList<>();
    loaded.snapshots().forEach(out::add);
    return out;
  }
}
