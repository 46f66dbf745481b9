package io.spindrift.examples;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.SourceKind;
import io.spindrift.local.LocalStack;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code --keep} prints: the local stack's endpoints, and a plain {@code spark-sql} command (no Spindrift
 * code, packages from Maven Central) that reads the run's table while the stack stays up.
 */
final class QueryHints {
  private static final String ICEBERG_PACKAGES = "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.12.0,"
      + "org.apache.iceberg:iceberg-aws-bundle:1.12.0";
  private static final String S3A_PACKAGE = "org.apache.hadoop:hadoop-aws:3.3.4";
  private static final String DELTA_PACKAGE = "io.delta:delta-spark_2.12:3.3.3";
  private static final String HUDI_PACKAGE = "org.apache.hudi:hudi-spark3.5-bundle_2.12:0.15.0";

  private QueryHints() {}

  static void print(PrintWriter out, LocalStack stack, SpindriftRuntime runtime, RunReport report, String app,
      List<SourceKind> kinds) {
    SpindriftConfig config = runtime.config();
    out.println();
    out.println("The local stack stays up until Ctrl-C:");
    out.printf("  S3        %s  bucket %s (path-style; access key %s, secret key %s)%n", stack.s3Endpoint(),
        config.bucket(), stack.accessKey(), stack.secretKey());
    out.printf("  DynamoDB  %s  commit log %s, Iceberg catalog %s%n", stack.dynamoDbEndpoint(),
        config.get(Setting.COMMIT_TABLE), config.get(Setting.CATALOG_TABLE));
    if (kinds.contains(SourceKind.KINESIS)) {
      out.printf("  Kinesis   %s  stream %s (CBOR off: aws.cborEnabled=false)%n", stack.kinesisEndpoint(), app);
    }
    if (kinds.contains(SourceKind.KAFKA)) {
      out.printf("  Kafka     %s  topic %s%n", stack.kafkaBootstrap(), app);
    }
    out.println("Query the table with plain Spark SQL (Spark 3.5, Scala 2.12):");
    command(stack, runtime, report).forEach(line -> out.println("  " + line));
    out.flush();
  }

  /** The spark-sql command, one line per argument group, continued with backslashes. */
  static List<String> command(LocalStack stack, SpindriftRuntime runtime, RunReport report) {
    String table = runtime.sink().table();
    List<String> lines = new ArrayList<>();
    switch (runtime.sink().format()) {
      case ICEBERG -> {
        String catalog = runtime.config().get(Setting.CATALOG_NAME);
        lines.add("AWS_ACCESS_KEY_ID=" + stack.accessKey() + " AWS_SECRET_ACCESS_KEY=" + stack.secretKey()
            + " AWS_REGION=" + stack.region() + " spark-sql");
        lines.add("--packages " + ICEBERG_PACKAGES);
        lines.add("--conf spark.sql.catalog." + catalog + "=org.apache.iceberg.spark.SparkCatalog");
        Map<String, String> properties = new TreeMap<>(SpindriftRuntime.catalogSettings(runtime.config()).properties());
        // the runtime signs with Spindrift's own provider; plain Spark takes the keys from the environment above
        properties.keySet().removeIf(key -> key.startsWith("client.credentials-provider"));
        properties.forEach((key, value) -> lines.add("--conf spark.sql.catalog." + catalog + "." + key + "=" + value));
        lines.add("-e \"SELECT * FROM " + catalog + "." + table + " LIMIT 20\"");
      }
      case DELTA -> {
        lines.add("spark-sql --packages " + DELTA_PACKAGE + "," + S3A_PACKAGE);
        lines.add("--conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension");
        lines.add("--conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog");
        s3a(stack).forEach((key, value) -> lines.add("--conf " + key + "=" + value));
        lines.add("-e \"SELECT * FROM delta.\\`" + report.location(table) + "\\` LIMIT 20\"");
      }
      case HUDI -> {
        lines.add("spark-sql --packages " + HUDI_PACKAGE + "," + S3A_PACKAGE);
        lines.add("--conf spark.serializer=org.apache.spark.serializer.KryoSerializer");
        lines.add("--conf spark.sql.extensions=org.apache.spark.sql.hudi.HoodieSparkSessionExtension");
        s3a(stack).forEach((key, value) -> lines.add("--conf " + key + "=" + value));
        lines.add("-e \"CREATE TEMPORARY VIEW output USING hudi OPTIONS (path '" + report.location(table)
            + "'); SELECT * FROM output LIMIT 20\"");
      }
    }
    List<String> continued = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      continued.add((i == 0 ? "" : "    ") + lines.get(i) + (i < lines.size() - 1 ? " \\" : ""));
    }
    return continued;
  }

  private static Map<String, String> s3a(LocalStack stack) {
    Map<String, String> conf = new TreeMap<>();
    conf.put("spark.hadoop.fs.s3a.endpoint", stack.s3Endpoint());
    conf.put("spark.hadoop.fs.s3a.path.style.access", "true");
    conf.put("spark.hadoop.fs.s3a.connection.ssl.enabled", "false");
    conf.put("spark.hadoop.fs.s3a.access.key", stack.accessKey());
    conf.put("spark.hadoop.fs.s3a.secret.key", stack.secretKey());
    conf.put("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    return conf;
  }
}
