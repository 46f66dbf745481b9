package io.spindrift.it;

import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.maintenance.AppMaintenance;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.Sinks;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Table health after a stretch of per-second commits (issue 15; a measurement, not a test): L lanes each publish C
 * small commits, one table commit per lane commit, staged and published through the real {@link Sink} API as the
 * handler does; then per format: data files the current version reads, data files stored, versions (Iceberg
 * snapshots, Delta log versions, Hudi completed instants), metadata bytes on S3 and the median time of a
 * {@code SELECT action, count(*) … GROUP BY action} query, before and after the product's maintenance entry point
 * ({@link AppMaintenance#run}, what {@code MaintenanceHandler} calls). One hour of 4 lanes at one commit per second
 * is 14,400 commits: {@code -Dbench.hour=true} runs that, the default is 4 × 300. Run with
 * {@code mvn -pl tests -am test -Dspindrift.bench=true -Dtest=TableHealthBench -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.lanes=4 -Dbench.commitsPerLane=300 -Dbench.rowsPerCommit=20 -Dbench.formats=iceberg,delta,hudi,hudi-no-inline-clustering,hudi-small-file-merge});
 * docs/PERFORMANCE.md ("Table health") has the figures. The maintenance policy is the defaults with a snapshot
 * retention of 0 h: the state of a table whose hour of commits is older than the retention.
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class TableHealthBench {
  private static final int QUERY_RUNS = 5;
  /** Per variant: the sink format and the settings it changes. */
  private static final Map<String, Map<String, String>> VARIANTS = Map.of(
      "iceberg", Map.of("SPINDRIFT_SINK_FORMAT", "iceberg"),
      "delta", Map.of("SPINDRIFT_SINK_FORMAT", "delta"),
      "hudi", Map.of("SPINDRIFT_SINK_FORMAT", "hudi"),
      "hudi-no-inline-clustering", Map.of("SPINDRIFT_SINK_FORMAT", "hudi", "SPINDRIFT_HUDI_CLUSTER_COMMITS", "0"),
      "hudi-small-file-merge", Map.of("SPINDRIFT_SINK_FORMAT", "hudi", "SPINDRIFT_HUDI_SMALL_FILE_MB", "100"));

  private record Health(long liveFiles, long storedFiles, long versions, long metadataBytes, long queryMs) {}

  @Test
  void tableHealthBeforeAndAfterMaintenance() {
    int lanes = Integer.getInteger("bench.lanes", 4);
    int perLane = Boolean.getBoolean("bench.hour") ? 3600 : Integer.getInteger("bench.commitsPerLane", 300);
    int rowsPerCommit = Integer.getInteger("bench.rowsPerCommit", 20);
    List<String> table = new ArrayList<>();
    table.add(String.format(Locale.ROOT, "%d lanes x %d commits of %d rows = %d table commits", lanes, perLane,
        rowsPerCommit, lanes * perLane));
    table.add(String.format(Locale.ROOT, "%-15s %-6s %10s %12s %9s %14s %9s %11s", "variant", "when", "live files",
        "stored files", "versions", "metadata KiB", "query ms", "publish ms"));
    for (String variant : System.getProperty("bench.formats", "iceberg,delta,hudi,hudi-no-inline-clustering,hudi-small-file-merge").split(",")) {
      table.addAll(measure(variant.trim(), lanes, perLane, rowsPerCommit));
      System.out.println(String.join("\n", table));
    }
    System.out.println("TABLE-HEALTH\n" + String.join("\n", table));
  }

  private static List<String> measure(String variant, int lanes, int perLane, int rowsPerCommit) {
    String app = TestPipeline.uniqueApp("health");
    Map<String, String> overrides = new HashMap<>(VARIANTS.get(variant));
    overrides.put("SPINDRIFT_MAINTENANCE_SNAPSHOT_RETENTION_HOURS", "0");
    SpindriftRuntime runtime = TestPipeline.runtime(app, overrides);
    SinkContext context = new SinkContext(app, runtime.spark(), runtime.catalog(), runtime.config().stageLocation(),
        runtime.config().asMap());
    Sink sink = Sinks.create(runtime.sink(), context);
    int commits = lanes * perLane;
    List<InternalRow> all = rows(runtime, commits * rowsPerCommit);
    List<Long> publishMs = new ArrayList<>();
    long started = System.nanoTime();
    for (int seq = 1; seq <= commits; seq++) {
      String txnId = UUID.randomUUID().toString();
      int first = (seq - 1) * rowsPerCommit;
      StagedOutput staged = sink.stage(txnId, new StageRows(Clickstream.EVENT, all.subList(first, first + rowsPerCommit)));
      String lane = "kinesis:bench/shardId-" + ((seq - 1) % lanes);
      long start = System.nanoTime();
      sink.publish(List.of(new PendingPublish(new CommitTag(app, seq, txnId, lane), staged.ref())));
      publishMs.add((System.nanoTime() - start) / 1_000_000);
      if (seq % 100 == 0) {
        System.out.printf(Locale.ROOT, "TABLE-HEALTH %s: %d/%d commits, %d s%n", variant, seq, commits,
            (System.nanoTime() - started) / 1_000_000_000);
      }
    }
    long tenth = Math.max(1, commits / 10);
    String publish = median(publishMs.subList(1, (int) Math.min(commits, tenth + 1))) + " -> "
        + median(publishMs.subList((int) (commits - tenth), commits));
    long queryBefore = queryMs(runtime, variant, app);
    long metadataBefore = metadataBytes(runtime, variant, app);
    MaintenancePolicy policy = AppMaintenance.policy(runtime);
    long maintainStart = System.nanoTime();
    AppMaintenance.Result done;
    try (AppMaintenance maintenance = AppMaintenance.of(runtime)) {
      done = maintenance.run(policy);
    }
    long maintainMs = (System.nanoTime() - maintainStart) / 1_000_000;
    MaintenanceReport report = done.tables().get(0);
    System.out.println("TABLE-HEALTH " + variant + " maintenance " + maintainMs + " ms: " + report.actions());
    Health before = new Health(report.liveFilesBefore(), report.storedFilesBefore(), report.versionsBefore(),
        metadataBefore, queryBefore);
    Health after = new Health(report.liveFilesAfter(), report.storedFilesAfter(), report.versionsAfter(),
        metadataBytes(runtime, variant, app), queryMs(runtime, variant, app));
    runtime.close();
    return List.of(line(variant, "before", before, "publish p50 " + publish),
        line(variant, "after", after, "maintenance " + maintainMs + " ms"));
  }

  private static String line(String variant, String when, Health health, String note) {
    return String.format(Locale.ROOT, "%-15s %-6s %10d %12d %9d %14d %9d   %s", variant, when, health.liveFiles(),
        health.storedFiles(), health.versions(), health.metadataBytes() / 1024, health.queryMs(), note);
  }

  /** Median of {@value #QUERY_RUNS} runs of the GROUP BY query, after one unmeasured run. */
  private static long queryMs(SpindriftRuntime runtime, String variant, String app) {
    List<Long> times = new ArrayList<>();
    for (int run = 0; run <= QUERY_RUNS; run++) {
      long start = System.nanoTime();
      List<Row> groups = table(runtime, variant, app).groupBy("action").count().collectAsList();
      if (groups.isEmpty()) {
        throw new IllegalStateException("Empty table " + app);
      }
      if (run > 0) {
        times.add((System.nanoTime() - start) / 1_000_000);
      }
    }
    return median(times);
  }

  private static Dataset<Row> table(SpindriftRuntime runtime, String variant, String app) {
    if (variant.equals("iceberg")) {
      return runtime.spark().table(TestPipeline.qualified(runtime, "it." + app));
    }
    return TestPipeline.s3aReader(runtime).read().format(format(variant)).load(location(runtime, variant, app));
  }

  private static String format(String variant) {
    return variant.startsWith("hudi") ? "hudi" : variant;
  }

  private static String location(SpindriftRuntime runtime, String variant, String app) {
    if (variant.equals("iceberg")) {
      return runtime.catalog().loadTable(TableIdentifier.parse("it." + app)).location();
    }
    return "s3a://" + runtime.config().bucket() + "/warehouse/it/" + app;
  }

  /** Bytes under the table's metadata directory: Iceberg {@code metadata/}, Delta {@code _delta_log/}, Hudi {@code .hoodie/}. */
  private static long metadataBytes(SpindriftRuntime runtime, String variant, String app) {
    String dir = switch (format(variant)) {
      case "iceberg" -> "metadata/";
      case "delta" -> "_delta_log/";
      default -> ".hoodie/";
    };
    String location = location(runtime, variant, app).replaceFirst("^[a-z0-9]+://", "");
    String bucket = location.substring(0, location.indexOf('/'));
    String prefix = location.substring(location.indexOf('/') + 1) + "/" + dir;
    try (S3Client s3 = AwsClients.s3(runtime.config())) {
      long bytes = 0;
      for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
        bytes += object.size();
      }
      return bytes;
    }
  }

  private static List<InternalRow> rows(SpindriftRuntime runtime, int count) {
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0, 1_795_390_000_000L);
    List<String> json = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      json.add(new String(generator.next().json(), StandardCharsets.UTF_8));
    }
    StructType schema = Clickstream.EVENT;
    return runtime.spark().read().schema(schema).json(runtime.spark().createDataset(json, Encoders.STRING()))
        .queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get((sorted.size() - 1) / 2);
  }
}
