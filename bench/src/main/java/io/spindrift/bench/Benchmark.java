package io.spindrift.bench;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.local.LocalStack;
import io.spindrift.runtime.SpindriftRuntime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.sql.SparkSession;

/**
 * The benchmark command ({@code ./bench.sh}): on a fresh local stack and the same generated clickstream, measures
 * Spindrift's warm invocations beside plain Spark Structured Streaming (restarted per batch, and long-running)
 * and the physical floor, then cold starts in new JVMs, and reports a table with ratios,
 * {@code bench-results.json} and {@code bench-latency.png}. Never part of the tests: timing belongs here only.
 */
public final class Benchmark {
  static final String APP = "bench-clickstream";
  static final String STREAM = "bench-clickstream";
  static final String SHARD = "shardId-000000000000";
  static final String STATEFUL_APP = "bench-pageviews";
  /** The windowed count (10-second windows, watermark, append mode), by name: it lands with the state store. */
  static final String STATEFUL_JOB = "io.spindrift.examples.PageViewCounts";
  private static final List<String> LAMBDA_JVM_FLAGS =
      List.of("-XX:+UseSerialGC", "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1");

  private final BenchOptions options;
  private final long startNanos = System.nanoTime();

  private Benchmark(BenchOptions options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    Path repo = repoRoot();
    BenchOptions options = BenchOptions.parse(args, repo);
    String command = "./bench.sh" + (args.length == 0 ? "" : " " + String.join(" ", args).trim());
    new Benchmark(options).run(command);
    System.exit(0);
  }

  private void run(String command) throws Exception {
    Map<String, Object> machine = Machine.describe();
    progress("Spindrift benchmark" + (options.quick() ? " (--quick: a smoke run, too few samples to quote)" : "")
        + " on " + machine.get("summary"));
    QueryProgressLog.register();
    LocalStack stack = LocalStack.shared();
    progress("local stack up: " + stack.startupTimes());
    SpindriftConfig config = LocalPipeline.config(stack, Map.of(
        "SPINDRIFT_APP", APP,
        "SPINDRIFT_JOB", Clickstream.class.getName(),
        "SPINDRIFT_SINK_TABLE", "bench.spindrift_clicks"));
    SpindriftRuntime runtime = SpindriftRuntime.create(config);
    InvocationLog log = InvocationLog.install();
    // Both in-memory sources ship a batch's rows inside its tasks; Spark warns about every large one.
    Configurator.setLevel("org.apache.spark.scheduler.TaskSetManager", Level.ERROR);
    SparkSession spark = PlainClickstream.session(config);
    String catalog = config.get(Setting.CATALOG_NAME);
    ClickCorpus corpus = new ClickCorpus(10_000, 42);
    KinesisEvents events = new KinesisEvents(STREAM, SHARD, stack.region());
    progress(String.format(Locale.ROOT, "runtime ready; corpus of %,d events, %.0f bytes each on average",
        corpus.size(), corpus.meanBytes()));
    Path scratch = Files.createTempDirectory("spindrift-bench-");
    Map<String, String> unavailable = new LinkedHashMap<>();

    int listenersBefore = spark.sparkContext().listenerBus().listeners().size();
    List<WarmSystem> systems = new ArrayList<>(List.of(
        new SpindriftWarm(SpindriftWarm.NAME, runtime, events, log),
        new PlainRestarted(spark, catalog + ".bench.plain_restarted", scratch),
        new PlainLongRunning(spark, catalog + ".bench.plain_long_running", scratch),
        new PhysicalFloor()));
    String statefulGap = statefulGap();
    if (statefulGap == null) {
      SpindriftRuntime stateful = SpindriftRuntime.create(LocalPipeline.config(stack, Map.of(
          "SPINDRIFT_APP", STATEFUL_APP,
          "SPINDRIFT_JOB", STATEFUL_JOB,
          "SPINDRIFT_SINK_TABLE", "bench.spindrift_page_view_counts")));
      systems.add(new SpindriftWarm(Targets.STATEFUL, stateful, new KinesisEvents(STATEFUL_APP, SHARD, stack.region()),
          log));
    } else {
      unavailable.put(Targets.STATEFUL, statefulGap);
    }
    WarmComparison.Outcome warm;
    try {
      warm = WarmComparison.run(systems, corpus, options, this::progress);
    } finally {
      for (WarmSystem system : systems) {
        system.close();
      }
    }
    unavailable.putAll(warm.failures());
    Map<String, String> rowChecks = rowChecks(spark, catalog, warm.records());
    machine.put("sparkListenerBusListeners", Map.of("beforeWarm", listenersBefore,
        "afterWarm", spark.sparkContext().listenerBus().listeners().size()));

    Map<String, Summary> cold = new LinkedHashMap<>();
    Map<String, Map<String, Double>> coldPhases = new LinkedHashMap<>();
    coldStarts(stack, config, catalog, corpus, events, cold, coldPhases, unavailable);
    machine.put("loadAverageAtEnd", Machine.loadAverage());
    machine.put("wallSeconds", Math.round((System.nanoTime() - startNanos) / 1e9));

    BenchResults results = new BenchResults(machine, command, warm.summaries(), warm.phases(), cold, coldPhases,
        unavailable, rowChecks, options.sizes());
    Path json = options.out().resolve("bench-results.json");
    Path png = options.out().resolve("bench-latency.png");
    ResultsJson.write(results, json);
    List<String> charted = new ArrayList<>(List.of(SpindriftWarm.NAME, PlainRestarted.NAME, PlainLongRunning.NAME,
        PhysicalFloor.NAME));
    if (warm.summaries().containsKey(Targets.STATEFUL)) {
      charted.add(Targets.STATEFUL);
    }
    LatencyChart.draw(results, charted, png);
    System.out.println();
    System.out.print(TerminalReport.render(results));
    System.out.println();
    System.out.println("Wrote " + json + " and " + png + String.format(Locale.ROOT, " (run took %.0f s)",
        (System.nanoTime() - startNanos) / 1e9));
    PlainRestarted.delete(scratch);
    stack.close();
  }

  /**
   * Every table writer must have landed each record it was given exactly once (the corpus has no malformed events):
   * a system that drops or duplicates rows would make its latency meaningless.
   */
  private Map<String, String> rowChecks(SparkSession spark, String catalog, Map<String, Long> records) {
    Map<String, String> tables = Map.of(SpindriftWarm.NAME, "bench.spindrift_clicks",
        PlainRestarted.NAME, "bench.plain_restarted", PlainLongRunning.NAME, "bench.plain_long_running");
    Map<String, String> checks = new LinkedHashMap<>();
    for (String system : List.of(SpindriftWarm.NAME, PlainRestarted.NAME, PlainLongRunning.NAME)) {
      String table = catalog + "." + tables.get(system);
      long rows = spark.sql("SELECT count(*) FROM " + table).first().getLong(0);
      long sent = records.getOrDefault(system, 0L);
      String verdict = String.format(Locale.ROOT, "%,d rows in %s for %,d records sent: %s", rows, table, sent,
          rows == sent ? "exact" : "MISMATCH");
      checks.put(system, verdict);
      progress("row check " + system + ": " + verdict);
    }
    return checks;
  }

  /**
   * Why the stateful row cannot be measured in this build, or null when it can: it needs the DynamoDB state store,
   * the runtime's stateful path and the windowed-count example job. Never measured without them: Spark's own state
   * store would lose state between invocations and make a stateful job look fast.
   */
  private static String statefulGap() {
    for (String needed : List.of("io.spindrift.state.DynamoDbStateStoreProvider", "io.spindrift.runtime.StatefulRunner",
        STATEFUL_JOB)) {
      try {
        Class.forName(needed, false, Benchmark.class.getClassLoader());
      } catch (ClassNotFoundException absent) {
        return "n/a (state store not yet available: no " + needed + ")";
      }
    }
    return null;
  }

  private void coldStarts(LocalStack stack, SpindriftConfig config, String catalog, ClickCorpus corpus,
      KinesisEvents events, Map<String, Summary> cold, Map<String, Map<String, Double>> coldPhases,
      Map<String, String> unavailable) throws Exception {
    String appCds = "cold spindrift + AppCDS";
    if (options.coldReps() == 0) {
      unavailable.put("cold start", "n/a (skipped: --cold-reps 0)");
      return;
    }
    Map<String, String> environment = new HashMap<>();
    for (Setting setting : Setting.values()) {
      environment.put(setting.key(), config.get(setting));
    }
    environment.put("AWS_ACCESS_KEY_ID", stack.accessKey());
    environment.put("AWS_SECRET_ACCESS_KEY", stack.secretKey());
    environment.put("AWS_REGION", stack.region());
    environment.put("SPARK_LOCAL_IP", "127.0.0.1");
    ColdStart launcher = new ColdStart(options.out().resolve("cold-start-logs"), environment);
    Path inputs = Files.createDirectories(options.out().resolve("cold-start-inputs"));
    Path payloads = inputs.resolve("payloads.jsonl");
    List<String> lines = new ArrayList<>();
    for (var event : corpus.batch(0, options.coldRecords())) {
      lines.add(new String(event.json(), StandardCharsets.UTF_8));
    }
    Files.write(payloads, lines);

    List<String> inherited = ColdStart.inheritedJvmOptions();
    List<String> lambdaFlags = new ArrayList<>(inherited);
    lambdaFlags.addAll(LAMBDA_JVM_FLAGS);
    Map<String, List<String>> variants = new LinkedHashMap<>();
    variants.put(Targets.COLD_SPINDRIFT, inherited);
    variants.put(Targets.COLD_PLAIN, inherited);
    if (!options.quick()) {
      variants.put(Targets.COLD_SPINDRIFT + ", Lambda JVM flags", lambdaFlags);
      variants.put(Targets.COLD_PLAIN + ", Lambda JVM flags", lambdaFlags);
    }
    Path cdsLog = options.out().resolve("cold-start-logs/appcds.log");
    if (Files.isRegularFile(options.appCdsArchive())) {
      List<String> withArchive = new ArrayList<>(lambdaFlags);
      withArchive.addAll(List.of("-XX:SharedArchiveFile=" + options.appCdsArchive(), "-Xshare:auto",
          "-Xlog:cds*=info:file=" + cdsLog));
      variants.put(appCds.substring("cold ".length()), withArchive);
    } else {
      unavailable.put(appCds, "n/a (no AppCDS archive at " + options.appCdsArchive()
          + "; infra-cdk/image/prepare-image.sh writes it)");
    }
    Map<String, List<Double>> samples = new LinkedHashMap<>();
    Map<String, List<ColdStart.Run>> runs = new LinkedHashMap<>();
    for (int rep = 0; rep < options.coldReps(); rep++) {
      for (Map.Entry<String, List<String>> variant : variants.entrySet()) {
        String name = variant.getKey();
        List<String> args;
        if (name.startsWith(Targets.COLD_PLAIN)) {
          args = List.of("plain", payloads.toString(), catalog + ".bench.plain_restarted");
        } else {
          Path event = inputs.resolve("event-" + rep + ".json");
          long from = (long) rep * options.coldRecords();
          Files.writeString(event, events.event(corpus.batch(from, options.coldRecords())));
          args = List.of("spindrift", event.toString());
        }
        ColdStart.Run run = launcher.run(variant.getValue(), args);
        samples.computeIfAbsent(name, k -> new ArrayList<>()).add(run.millis());
        runs.computeIfAbsent(name, k -> new ArrayList<>()).add(run);
        progress(String.format(Locale.ROOT, "cold start %s: %.2f s", name, run.millis() / 1000));
      }
    }
    String archiveVariant = appCds.substring("cold ".length());
    if (samples.containsKey(archiveVariant) && !ColdStart.archiveUsed(cdsLog)) {
      samples.remove(archiveVariant);
      runs.remove(archiveVariant);
      unavailable.put(appCds, "n/a (the JVM could not use " + options.appCdsArchive() + " on this class path or JVM"
          + " build: see " + cdsLog + "; it is trained for the Lambda image's class path)");
    }
    samples.forEach((name, list) -> cold.put(name, Summary.of(list)));
    runs.forEach((name, list) -> coldPhases.put(name,
        WarmComparison.phaseMedians(list.stream().map(r -> new WarmSystem.Trial(r.millis(), r.phases())).toList())));
  }

  private void progress(String message) {
    System.out.printf(Locale.ROOT, "[%5.0fs] %s%n", (System.nanoTime() - startNanos) / 1e9, message);
    System.out.flush();
  }

  /** The checkout: {@code spindrift.repo.root} (set through Maven), else the nearest parent holding bench/. */
  static Path repoRoot() {
    String property = System.getProperty("spindrift.repo.root");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath();
    }
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("bench/pom.xml"))) {
        return d;
      }
    }
    return dir;
  }
}
