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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.iceberg.relocated.com.google.common.base.Preconditions;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Table health after a stretch of per-second commits (issue 15; a measurement, not a test): L lanes each publish C
 * small commits, one table commit per lane commit, lanes interleaved; then per format: data files the current version
 * reads, data files stored, versions (Iceberg snapshots, Delta log versions, Hudi completed instants), metadata bytes
 * on S3 and the median time of a {@code SELECT action, count(*) … GROUP BY action} query, before and after the
 * product's maintenance entry point ({@link AppMaintenance#run}, what {@code MaintenanceHandler} calls). The
 * maintenance policy is the defaults with a snapshot retention of 0 h: the state of a table whose hour of commits is
 * older than the retention.
 *
 * <p>Two generators ({@code -Dbench.generator}): {@code sink} (default) stages and publishes every commit through the
 * real {@link Sink} API as the handler does; {@code direct} makes the first commit through the sink (which creates
 * the table as the product does) and the rest through {@link DirectCommits}, each still one table commit with its
 * own data file (Hudi's direct path is the sink's, already its warm Java write client). One hour of 4 lanes at one
 * commit per second is 14,400 commits: {@code -Dbench.hour=true}; the default is 4 × 300. Run with
 * {@code mvn -pl tests -am test -Dspindrift.bench=true -Dtest=TableHealthBench -Dsurefire.failIfNoSpecifiedTests=false},
 * or {@link #main} from the test classpath. Properties: {@code bench.lanes} (4), {@code bench.commitsPerLane} (300),
 * {@code bench.rowsPerCommit} (20), {@code bench.formats} (iceberg,delta,hudi,hudi-no-inline-clustering,hudi-small-file-merge; also
 * iceberg-no-snapshot-cap, iceberg-snapshot-cap-100), {@code bench.parallel}
 * (generate the variants at once, measure them one at a time), {@code bench.maxGenerateMinutes} and
 * {@code bench.maxGenerateMinutes.<variant>} (stop generating a variant then and measure what it has),
 * {@code bench.queryBudgetSeconds} and {@code bench.queryLock} ({@link #queryMs}), {@code bench.groupCommits} (1:
 * publish every lane commit as its own table commit; N: publish N consecutive lane commits as one table commit, as
 * the group publish does when lanes commit faster than the table does). docs/PERFORMANCE.md ("Table health") has
 * the figures.
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class TableHealthBench {
  private static final int QUERY_RUNS = 5;
  private static final int PROGRESS_EVERY = 100;
  /** Per variant: the sink format and the settings it changes. */
  private static final Map<String, Map<String, String>> VARIANTS = Map.of(
      "iceberg", Map.of("SPINDRIFT_SINK_FORMAT", "iceberg"),
      "iceberg-no-snapshot-cap", Map.of("SPINDRIFT_SINK_FORMAT", "iceberg", "SPINDRIFT_ICEBERG_MAX_SNAPSHOTS", "0"),
      "iceberg-snapshot-cap-100", Map.of("SPINDRIFT_SINK_FORMAT", "iceberg", "SPINDRIFT_ICEBERG_MAX_SNAPSHOTS", "100"),
      "delta", Map.of("SPINDRIFT_SINK_FORMAT", "delta"),
      "hudi", Map.of("SPINDRIFT_SINK_FORMAT", "hudi"),
      "hudi-no-inline-clustering", Map.of("SPINDRIFT_SINK_FORMAT", "hudi", "SPINDRIFT_HUDI_CLUSTER_COMMITS", "0"),
      "hudi-small-file-merge", Map.of("SPINDRIFT_SINK_FORMAT", "hudi", "SPINDRIFT_HUDI_SMALL_FILE_MB", "100"));

  private record Health(long liveFiles, long storedFiles, long versions, long metadataBytes, long queryMs) {}

  /** Runs the bench outside surefire (e.g. under {@code nice}, from the test classpath), with the same properties. */
  public static void main(String[] args) {
    new TableHealthBench().tableHealthBeforeAndAfterMaintenance();
    System.exit(0);
  }

  @Test
  void tableHealthBeforeAndAfterMaintenance() {
    int lanes = Integer.getInteger("bench.lanes", 4);
    int perLane = Boolean.getBoolean("bench.hour") ? 3600 : Integer.getInteger("bench.commitsPerLane", 300);
    int rowsPerCommit = Integer.getInteger("bench.rowsPerCommit", 20);
    String generator = System.getProperty("bench.generator", "sink");
    Preconditions.checkArgument(List.of("sink", "direct").contains(generator), "Invalid bench.generator: %s",
        generator);
    List<String> variants = List.of(System.getProperty("bench.formats",
        "iceberg,delta,hudi,hudi-no-inline-clustering,hudi-small-file-merge")
        .split(",")).stream().map(String::trim).toList();
    variants.forEach(v -> Preconditions.checkArgument(VARIANTS.containsKey(v), "Invalid variant: %s", v));
    Generation plan = new Generation(lanes, lanes * perLane, rowsPerCommit, generator.equals("direct"),
        Duration.ofMinutes(Long.getLong("bench.maxGenerateMinutes", 24 * 60)), Integer.getInteger("bench.groupCommits", 1));
    Preconditions.checkArgument(plan.group() >= 1 && (plan.group() == 1 || !plan.direct()),
        "Invalid bench.groupCommits: %s (1, or more with the sink generator)", plan.group());
    List<String> table = new ArrayList<>();
    table.add(String.format(Locale.ROOT, "%d lanes x %d commits of %d rows = %d lane commits in %d table commits,"
        + " %s generator", lanes, perLane, rowsPerCommit, lanes * perLane,
        (lanes * perLane + plan.group() - 1) / plan.group(), generator));
    table.add(String.format(Locale.ROOT, "%-15s %-6s %10s %12s %9s %14s %9s %11s", "variant", "when", "live files",
        "stored files", "versions", "metadata KiB", "query ms", "publish ms"));
    for (Generated generated : generateAll(variants, plan)) {
      table.addAll(measure(generated));
      System.out.println(String.join("\n", table));
    }
    System.out.println("TABLE-HEALTH\n" + String.join("\n", table));
  }

  /**
   * What to generate: {@code commits} table commits of {@code rowsPerCommit} rows, lanes interleaved; through the
   * sink, or (direct) the first through the sink (which creates the table) and the rest through
   * {@link DirectCommits}; a variant stops early once it has generated for {@code maxTime}.
   */
  private record Generation(int lanes, int commits, int rowsPerCommit, boolean direct, Duration maxTime,
      int group) {}

  /** A variant's table after generation, and the time of each commit (stage and publish, or the direct commit). */
  private record Generated(String variant, SpindriftRuntime runtime, String app, int commits, List<Long> commitMs,
      long seconds) {}

  /**
   * Generates every variant's table, one after the other, or all at once ({@code -Dbench.parallel=true}: commits
   * wait mostly on the local stack, and the measurements still run one variant at a time).
   */
  private static List<Generated> generateAll(List<String> variants, Generation plan) {
    if (!Boolean.getBoolean("bench.parallel")) {
      return variants.stream().map(v -> generate(v, plan)).toList();
    }
    ExecutorService pool = Executors.newFixedThreadPool(variants.size());
    try {
      List<Future<Generated>> futures = variants.stream().map(v -> pool.submit(() -> generate(v, plan))).toList();
      List<Generated> out = new ArrayList<>();
      for (Future<Generated> future : futures) {
        out.add(future.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while generating", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Generating failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static Generated generate(String variant, Generation plan) {
    String app = TestPipeline.uniqueApp("health");
    Map<String, String> overrides = new HashMap<>(VARIANTS.get(variant));
    overrides.put("SPINDRIFT_MAINTENANCE_SNAPSHOT_RETENTION_HOURS", "0");
    SpindriftRuntime runtime = TestPipeline.runtime(app, overrides);
    SparkSession.setActiveSession(runtime.spark());
    SinkContext context = new SinkContext(app, runtime.spark(), runtime.catalog(), runtime.config().stageLocation(),
        runtime.config().asMap());
    Sink sink = Sinks.create(runtime.sink(), context);
    List<InternalRow> all = rows(runtime, plan.commits() * plan.rowsPerCommit());
    DirectCommits direct = null;
    List<Long> commitMs = new ArrayList<>();
    long started = System.nanoTime();
    Long variantMinutes = Long.getLong("bench.maxGenerateMinutes." + variant);
    long deadline = started + (variantMinutes == null ? plan.maxTime() : Duration.ofMinutes(variantMinutes)).toNanos();
    int seq = 1;
    List<PendingPublish> group = new ArrayList<>();
    long groupStart = 0;
    for (; seq <= plan.commits() && (System.nanoTime() - deadline < 0 || !group.isEmpty()); seq++) {
      String txnId = UUID.randomUUID().toString();
      int first = (seq - 1) * plan.rowsPerCommit();
      List<InternalRow> rows = all.subList(first, first + plan.rowsPerCommit());
      CommitTag tag = new CommitTag(app, seq, txnId, "kinesis:bench/shardId-" + ((seq - 1) % plan.lanes()));
      long start = System.nanoTime();
      if (direct != null) {
        direct.commit(tag, rows);
        commitMs.add((System.nanoTime() - start) / 1_000_000);
      } else {
        groupStart = group.isEmpty() ? start : groupStart;
        StagedOutput staged = sink.stage(txnId, new StageRows(Clickstream.EVENT, rows));
        group.add(new PendingPublish(tag, staged.ref()));
        if (group.size() == plan.group() || seq == plan.commits()) {
          sink.publish(List.copyOf(group)); // one table commit for the group, as a group publish makes it
          group.clear();
          // a table commit's time: its lane commits' stages and the publish
          commitMs.add((System.nanoTime() - groupStart) / 1_000_000);
        }
        direct = plan.direct() ? directCommits(variant, runtime, app) : null;
      }
      if (seq % PROGRESS_EVERY == 0) {
        System.out.printf(Locale.ROOT, "TABLE-HEALTH %s: %d/%d commits, %d s, last %d p50 %d ms, load %s%n", variant,
            seq, plan.commits(), (System.nanoTime() - started) / 1_000_000_000, PROGRESS_EVERY,
            median(commitMs.subList(Math.max(0, commitMs.size() - PROGRESS_EVERY / plan.group()),
                commitMs.size())), load());
      }
    }
    if (direct != null) {
      direct.finish(new CommitTag(app, seq - 1, "", ""));
    }
    long seconds = (System.nanoTime() - started) / 1_000_000_000;
    System.out.printf(Locale.ROOT, "TABLE-HEALTH %s: generated %d commits in %d s%n", variant, seq - 1, seconds);
    return new Generated(variant, runtime, app, seq - 1, commitMs, seconds);
  }

  /** The direct path of {@code variant}: Iceberg's and Delta's own APIs; Hudi's is the sink's warm Java client. */
  private static DirectCommits directCommits(String variant, SpindriftRuntime runtime, String app) {
    return switch (format(variant)) {
      case "iceberg" -> new IcebergDirectCommits(runtime.catalog().loadTable(TableIdentifier.parse("it." + app)), app);
      case "delta" -> new DeltaDirectCommits(runtime.spark(), AwsClients.s3(runtime.config()),
          location(runtime, variant, app));
      default -> null;
    };
  }

  private static List<String> measure(Generated generated) {
    String variant = generated.variant();
    SpindriftRuntime runtime = generated.runtime();
    String app = generated.app();
    SparkSession.setActiveSession(runtime.spark());
    List<Long> commitMs = generated.commitMs();
    int commits = commitMs.size(); // table commits (a group of lane commits is one)
    long tenth = Math.max(1, commits / 10);
    String publish = median(commitMs.subList(1, (int) Math.min(commits, tenth + 1))) + " -> "
        + median(commitMs.subList((int) (commits - tenth), commits));
    String loadBefore = load();
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
    String loadAfter = load();
    Health after = new Health(report.liveFilesAfter(), report.storedFilesAfter(), report.versionsAfter(),
        metadataBytes(runtime, variant, app), queryMs(runtime, variant, app));
    String listing = format(variant).equals("delta") ? "; " + deltaListingMs(runtime, variant, app) : "";
    long rows = table(runtime, variant, app).count();
    long expected = (long) generated.commits() * Integer.getInteger("bench.rowsPerCommit", 20);
    Preconditions.checkState(rows == expected, "%s holds %s rows after maintenance, not %s", variant, rows, expected);
    runtime.close();
    return List.of(line(variant, "before", before, String.format(Locale.ROOT,
            "%d commits in %d s, p50 %s ms; query load %s", commits, generated.seconds(), publish, loadBefore)),
        line(variant, "after", after, "maintenance " + maintainMs + " ms; " + rows + " rows, every one once; query load "
            + loadAfter + listing));
  }

  /**
   * What listing the Delta log from its last checkpoint costs (what every snapshot update of a reader or writer
   * does): through the product's log store, which lists from that version on, and through Delta's
   * {@code S3SingleDriverLogStore} as configured by default, which lists the whole log directory; median of three.
   */
  private static String deltaListingMs(SpindriftRuntime runtime, String variant, String app) {
    org.apache.hadoop.conf.Configuration conf = TestPipeline.s3aReader(runtime).sessionState().newHadoopConf();
    org.apache.hadoop.fs.Path logPath = new org.apache.hadoop.fs.Path(location(runtime, variant, app), "_delta_log");
    long checkpoint = org.apache.spark.sql.delta.DeltaLog.forTable(runtime.spark(), logPath.getParent())
        .update(false, scala.Option.empty(), scala.Option.empty()).version();
    org.apache.hadoop.fs.Path from = org.apache.spark.sql.delta.util.FileNames.listingPrefix(logPath, checkpoint);
    List<String> out = new ArrayList<>();
    for (io.delta.storage.LogStore store : List.of(new io.spindrift.sink.delta.DynamoDbLogStore(conf),
        new io.delta.storage.S3SingleDriverLogStore(conf))) {
      List<Long> times = new ArrayList<>();
      int[] files = {0};
      for (int run = 0; run < 3; run++) {
        long start = System.nanoTime();
        files[0] = 0;
        try {
          store.listFrom(from, conf).forEachRemaining(status -> files[0]++);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        times.add((System.nanoTime() - start) / 1_000_000);
      }
      out.add(String.format(Locale.ROOT, "%s %d ms (%d files)", store.getClass().getSimpleName(), median(times),
          files[0]));
    }
    return "log listing from version " + checkpoint + ": " + String.join(", ", out);
  }

  /** The machine's 1-minute load average, to read the query times against. */
  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  private static String line(String variant, String when, Health health, String note) {
    return String.format(Locale.ROOT, "%-15s %-6s %10d %12d %9d %14d %9d   %s", variant, when, health.liveFiles(),
        health.storedFiles(), health.versions(), health.metadataBytes() / 1024, health.queryMs(), note);
  }

  /**
   * Median of {@code bench.queryRuns} (default {@value #QUERY_RUNS}) runs of the GROUP BY query, after one unmeasured
   * run; with {@code -Dbench.queryLock=<file>}, run holding that {@code flock} lock (the shared build lock: no build
   * starts meanwhile), waited for at most {@code bench.queryLockWaitSeconds} (300) and measured without it after that.
   */
  private static long queryMs(SpindriftRuntime runtime, String variant, String app) {
    String lock = System.getProperty("bench.queryLock");
    if (lock == null) {
      return queryMsNow(runtime, variant, app);
    }
    Process holder = null;
    try {
      String waitSeconds = Long.toString(Long.getLong("bench.queryLockWaitSeconds", 300));
      holder = new ProcessBuilder("flock", "-o", "-w", waitSeconds, lock, "sh", "-c", "echo locked; read ignored")
          .redirectErrorStream(true).start();
      String first = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(),
          StandardCharsets.UTF_8)).readLine();
      System.out.println("TABLE-HEALTH " + variant + " query " + ("locked".equals(first) ? "holding " : "NOT holding ")
          + lock + ", load " + load());
      return queryMsNow(runtime, variant, app);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("Cannot run flock on " + lock, e);
    } finally {
      if (holder != null) {
        release(holder);
      }
    }
  }

  /** Ends the lock holder: its shell reads end of input and exits, and flock with it. */
  private static void release(Process holder) {
    try {
      holder.getOutputStream().close();
      if (!holder.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        holder.destroyForcibly();
      }
    } catch (IOException e) {
      holder.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      holder.destroyForcibly();
    }
  }

  /**
   * The median of up to {@value #QUERY_RUNS} runs after one unmeasured run, as many as fit in
   * {@code bench.queryBudgetSeconds} (default 120); an unmeasured run longer than half of that is the one measurement
   * (seconds of warm-up do not matter to a query of minutes).
   */
  private static long queryMsNow(SpindriftRuntime runtime, String variant, String app) {
    long budgetMs = Long.getLong("bench.queryBudgetSeconds", 120) * 1000;
    long warmUp = groupByMs(runtime, variant, app);
    List<Long> times = new ArrayList<>();
    if (warmUp > budgetMs / 2) {
      times.add(warmUp);
    }
    long spent = 0;
    while (times.isEmpty() || times.size() < QUERY_RUNS && spent < budgetMs) {
      long ms = groupByMs(runtime, variant, app);
      times.add(ms);
      spent += ms;
    }
    System.out.println("TABLE-HEALTH " + variant + " query runs (ms): " + times + ", load " + load());
    return median(times);
  }

  private static long groupByMs(SpindriftRuntime runtime, String variant, String app) {
    long start = System.nanoTime();
    List<Row> groups = table(runtime, variant, app).groupBy("action").count().collectAsList();
    if (groups.isEmpty()) {
      throw new IllegalStateException("Empty table " + app);
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static Dataset<Row> table(SpindriftRuntime runtime, String variant, String app) {
    if (format(variant).equals("iceberg")) {
      return runtime.spark().table(TestPipeline.qualified(runtime, "it." + app));
    }
    return TestPipeline.s3aReader(runtime).read().format(format(variant)).load(location(runtime, variant, app));
  }

  private static String format(String variant) {
    return variant.startsWith("hudi") ? "hudi" : variant.startsWith("iceberg") ? "iceberg" : variant;
  }

  private static String location(SpindriftRuntime runtime, String variant, String app) {
    if (format(variant).equals("iceberg")) {
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
