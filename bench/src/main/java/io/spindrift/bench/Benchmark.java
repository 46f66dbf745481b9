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
  static final String DEFERRED_APP = "bench-clickstream-deferred";
  static final String STATEFUL_APP = "bench-pageviews";
  /** The windowed count (10-second windows, watermark, append mode), by name: it lands with the state store. */
  static final String STATEFUL_JOB = "io.spindrift.examples.PageViewCounts";
  /**
   * What the Lambda Java 17 bootstrap adds to the function's JVM (infra-cdk/image/local-bootstrap.sh mirrors it; the
   * image's jvm.options are Spark's --add-opens, which the benchmark's own options already hold). Its explicit
   * {@code -Xshare:on} with the JDK's base archive is the default {@code -Xshare:auto} here, which a dynamic
   * AppCDS archive on top needs.
   */
  private static final List<String> LAMBDA_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-XX:+TieredCompilation",
      "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true", "-Xshare:auto");

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
    SpindriftRuntime deferred = SpindriftRuntime.create(LocalPipeline.config(stack, Map.of(
        "SPINDRIFT_APP", DEFERRED_APP,
        "SPINDRIFT_JOB", Clickstream.class.getName(),
        "SPINDRIFT_SINK_TABLE", "bench.spindrift_deferred_clicks",
        "SPINDRIFT_PUBLISH", "deferred")));
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
        new SpindriftWarm(SpindriftWarm.DEFERRED, deferred, new KinesisEvents(DEFERRED_APP, SHARD, stack.region()),
            log),
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
    WarmComparison.Sustained sustained = new WarmComparison.Sustained(Map.of(), Map.of(), Map.of());
    try {
      warm = WarmComparison.run(systems, corpus, options, this::progress);
      if (options.chains() > 0) {
        List<String> chained = List.of(SpindriftWarm.NAME, SpindriftWarm.DEFERRED, PlainRestarted.NAME,
            PlainLongRunning.NAME);
        List<WarmSystem> still = systems.stream()
            .filter(s -> chained.contains(s.name()) && !warm.failures().containsKey(s.name())).toList();
        sustained = WarmComparison.chains(still, corpus, 50_000_000L, BenchResults.CHAIN_SIZE, options.chain(),
            options.chains(), this::progress);
      }
    } finally {
      for (WarmSystem system : systems) {
        system.close();
      }
    }
    unavailable.putAll(warm.failures());
    sustained.failures().forEach((system, reason) -> unavailable.put("back-to-back " + system, reason));
    Map<String, Long> sent = new LinkedHashMap<>(warm.records());
    sustained.records().forEach((system, records) -> sent.merge(system, records, Long::sum));
    Map<String, String> rowChecks = rowChecks(spark, catalog, sent);
    machine.put("sparkListenerBusListeners", Map.of("beforeWarm", listenersBefore,
        "afterWarm", spark.sparkContext().listenerBus().listeners().size()));

    Map<String, Summary> cold = new LinkedHashMap<>();
    Map<String, Map<String, Double>> coldPhases = new LinkedHashMap<>();
    coldStarts(stack, config, catalog, corpus, events, cold, coldPhases, unavailable);
    machine.put("loadAverageAtEnd", Machine.loadAverage());
    machine.put("wallSeconds", Math.round((System.nanoTime() - startNanos) / 1e9));

    BenchResults results = new BenchResults(machine, command, warm.summaries(), warm.phases(), cold, coldPhases,
        unavailable, rowChecks, options.sizes(), sustained.perInvocation());
    Path json = options.out().resolve("bench-results.json");
    Path png = options.out().resolve("bench-latency.png");
    ResultsJson.write(results, json);
    List<String> charted = new ArrayList<>(List.of(SpindriftWarm.NAME, PlainRestarted.NAME, PlainLongRunning.NAME,
        PhysicalFloor.NAME));
    if (warm.summaries().containsKey(SpindriftWarm.DEFERRED)) {
      charted.add(SpindriftWarm.DEFERRED);
    }
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
        SpindriftWarm.DEFERRED, "bench.spindrift_deferred_clicks",
        PlainRestarted.NAME, "bench.plain_restarted", PlainLongRunning.NAME, "bench.plain_long_running");
    Map<String, String> checks = new LinkedHashMap<>();
    for (String system : List.of(SpindriftWarm.NAME, SpindriftWarm.DEFERRED, PlainRestarted.NAME,
        PlainLongRunning.NAME)) {
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
    for (String needed : List.of("io.spindrift.state.DynamoDbStateStoreProvider", "io.spindrift.runtime.MicroBatchQuery",
        STATEFUL_JOB)) {
      try {
        Class.forName(needed, false, Benchmark.class.getClassLoader());
      } catch (ClassNotFoundException absent) {
        return "n/a (state store not yet available: no " + needed + ")";
      }
    }
    return null;
  }

  /** One cold-start row: which child, with which JVM options, and the CDS log that shows whether an archive mapped. */
  private record ColdVariant(String mode, List<String> jvmOptions, Path cdsLog, Path archive) {}

  /**
   * Cold starts as Lambda runs them: the Lambda bootstrap's JVM flags, without and with an AppCDS archive, for
   * Spindrift and for plain Spark alike. The archives are trained here, the way infra-cdk/image/prepare-image.sh
   * trains the image's: one JVM with the same class path and flags commits a batch and writes the classes it loaded
   * at exit ({@code -XX:ArchiveClassesAtExit}); an archive is only usable on the class path it was trained on.
   */
  private void coldStarts(LocalStack stack, SpindriftConfig config, String catalog, ClickCorpus corpus,
      KinesisEvents events, Map<String, Summary> cold, Map<String, Map<String, Double>> coldPhases,
      Map<String, String> unavailable) throws Exception {
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
    Path inputs = Files.createDirectories(options.out().resolve("cold-start-inputs"));
    ColdStart launcher = new ColdStart(options.out().resolve("cold-start-logs"), environment, inputs);
    Path payloads = inputs.resolve("payloads.jsonl");
    List<String> lines = new ArrayList<>();
    for (var event : corpus.batch(0, options.coldRecords())) {
      lines.add(new String(event.json(), StandardCharsets.UTF_8));
    }
    Files.write(payloads, lines);

    List<String> inherited = ColdStart.inheritedJvmOptions();
    List<String> lambdaFlags = new ArrayList<>(inherited);
    lambdaFlags.addAll(LAMBDA_JVM_FLAGS);
    Path logs = options.out().resolve("cold-start-logs");
    Map<String, ColdVariant> variants = new LinkedHashMap<>();
    variants.put(Targets.COLD_SPINDRIFT, new ColdVariant("spindrift", lambdaFlags, null, null));
    variants.put(Targets.COLD_PLAIN, new ColdVariant("plain", lambdaFlags, null, null));
    Path cds = Files.createDirectories(options.out().resolve("cds"));
    for (String mode : List.of("spindrift", "plain")) {
      String name = mode.equals("spindrift") ? Targets.COLD_SPINDRIFT_CDS : Targets.COLD_PLAIN_CDS;
      Path archive = cds.resolve(mode + ".jsa");
      Files.deleteIfExists(archive);
      List<String> training = new ArrayList<>(lambdaFlags);
      training.add("-XX:ArchiveClassesAtExit=" + archive);
      try {
        ColdStart.Run run = launcher.run(training, coldArgs(mode, payloads, inputs, catalog, corpus, events, -1));
        progress(String.format(Locale.ROOT,
            "AppCDS archive for %s trained (a cold batch committed in %.2f s): %s, %,d KiB", mode,
            run.millis() / 1000, archive, Files.size(archive) / 1024));
        variants.put(name, withArchive(mode, lambdaFlags, archive, logs.resolve("appcds-" + mode + ".log")));
      } catch (Exception e) {
        unavailable.put("cold " + name, "n/a (training the archive failed: " + e.getMessage() + ")");
      }
    }
    if (!options.quick()) {
      variants.put(Targets.COLD_SPINDRIFT + ", bench JVM flags", new ColdVariant("spindrift", inherited, null, null));
      variants.put(Targets.COLD_PLAIN + ", bench JVM flags", new ColdVariant("plain", inherited, null, null));
    }
    String imageVariant = Targets.COLD_SPINDRIFT + " + image's AppCDS";
    if (Files.isRegularFile(options.appCdsArchive())) {
      variants.put(imageVariant, withArchive("spindrift", lambdaFlags, options.appCdsArchive(),
          logs.resolve("appcds-image.log")));
    } else {
      unavailable.put("cold " + imageVariant, "n/a (no AppCDS archive at " + options.appCdsArchive()
          + "; infra-cdk/image/prepare-image.sh writes it)");
    }
    Map<String, List<Double>> samples = new LinkedHashMap<>();
    Map<String, List<ColdStart.Run>> runs = new LinkedHashMap<>();
    for (int rep = 0; rep < options.coldReps(); rep++) {
      for (Map.Entry<String, ColdVariant> variant : variants.entrySet()) {
        String name = variant.getKey();
        ColdVariant v = variant.getValue();
        ColdStart.Run run = launcher.run(v.jvmOptions(),
            coldArgs(v.mode(), payloads, inputs, catalog, corpus, events, rep));
        samples.computeIfAbsent(name, k -> new ArrayList<>()).add(run.millis());
        runs.computeIfAbsent(name, k -> new ArrayList<>()).add(run);
        progress(String.format(Locale.ROOT, "cold start %s: %.2f s", name, run.millis() / 1000));
      }
    }
    variants.forEach((name, v) -> {
      try {
        if (v.cdsLog() != null && !ColdStart.archiveUsed(v.cdsLog())) {
          samples.remove(name);
          runs.remove(name);
          unavailable.put("cold " + name, "n/a (the JVM could not use " + v.archive() + " on this class path or JVM"
              + " build: see " + v.cdsLog() + ")");
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    samples.forEach((name, list) -> cold.put(name, Summary.of(list)));
    runs.forEach((name, list) -> coldPhases.put(name,
        WarmComparison.phaseMedians(list.stream().map(r -> new WarmSystem.Trial(r.millis(), r.phases())).toList())));
  }

  private static ColdVariant withArchive(String mode, List<String> flags, Path archive, Path cdsLog) {
    List<String> options = new ArrayList<>(flags);
    options.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=info:file=" + cdsLog));
    return new ColdVariant(mode, options, cdsLog, archive);
  }

  /** The child's arguments: plain Spark reads the payloads; Spindrift gets a Kinesis event with fresh positions. */
  private List<String> coldArgs(String mode, Path payloads, Path inputs, String catalog, ClickCorpus corpus,
      KinesisEvents events, int rep) throws java.io.IOException {
    if (mode.equals("plain")) {
      return List.of("plain", payloads.toString(), catalog + ".bench.plain_restarted");
    }
    Path event = inputs.resolve("event-" + (rep < 0 ? "training" : Integer.toString(rep)) + ".json");
    long from = (long) Math.max(0, rep) * options.coldRecords();
    Files.writeString(event, events.event(corpus.batch(from, options.coldRecords())));
    return List.of("spindrift", event.toString());
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
