package io.spindrift.examples;

import io.spindrift.config.Setting;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.local.LocalStack;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.catalyst.parser.ParseException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The local demo, and "try your own job": starts the local stack, produces events into a local Kinesis stream
 * and/or Kafka topic, runs a job through the real handlers (via the local event-source mappings) into a table,
 * and prints what happened. Without options it runs the example {@link Clickstream} job on generated clicks over
 * both sources; {@code --job}/{@code --jar}/{@code --input} run a user's job on their own events.
 *
 * <p>Run from {@link #main}, the terminal shows only the demo: a progress line per stage and the summary; the
 * per-invocation JSON lines and the libraries' logs go to a log file whose path the summary prints
 * ({@link DemoLog}; {@code --verbose} shows them live as well).
 *
 * <p>Exits 0 when the run was exactly once ({@link RunReport}), 1 when something was lost or duplicated or the
 * job could not run (the message names the problem), 2 on bad options. Whatever it started is stopped before it
 * returns, unless {@code --keep} asked to leave the stack up until Ctrl-C.
 */
@Command(name = "demo.sh", mixinStandardHelpOptions = true, version = "Spindrift 0.1.0-SNAPSHOT", sortOptions = false, usageHelpWidth = 110,
    description = {"Runs a job on the embedded local stack through the real Lambda handlers and checks that every",
        "event was committed exactly once. Without --job: the example clickstream job on generated events."},
    footer = {"", "Examples:",
        "  ./demo.sh --events 20000 --batch-size 500 --format delta",
        "  ./demo.sh --job com.acme.Orders --jar target/orders.jar --input orders.jsonl --source kafka \\",
        "            --table shop.orders --mode upsert --keys order_id --set SPINDRIFT_PUBLISH=deferred",
        "  ./demo.sh --job file:jobs/orders.sql --input orders.jsonl --source kinesis --keep",
        "  ./demo.sh --job io.spindrift.examples.PageViewCounts --events 20000"})
public final class Demo implements Callable<Integer> {
  private static final String DEFAULT_JOB = Clickstream.class.getName();

  @Spec
  private CommandSpec spec;

  @Option(names = "--job", paramLabel = "CLASS|SQL", description = "The job: a StreamJob class name, or a SQL file (file:path.sql, path.sql or classpath:…)."
          + " Default: the example clickstream job.")
  private String job;

  @Option(names = "--jar", paramLabel = "JAR", split = ",",
      description = "Jar(s) holding the job class and what it needs beyond Spindrift and Spark (repeatable).")
  private List<Path> jars = new ArrayList<>();

  @Option(names = "--input", paramLabel = "FILE",
      description = "Events file, one payload per line (blank lines skipped). Default: generated clickstream events.")
  private Path inputFile;

  @Option(names = "--input-format", paramLabel = "json|text|base64", defaultValue = "json",
      description = "How a line of --input becomes a payload: json (checked, default), text (as is), base64"
          + " (decoded: binary formats such as Avro or Protobuf).")
  private EventInput.LineFormat inputFormat;

  @Option(names = "--partition-key", paramLabel = "FIELD",
      description = "JSON field whose value is each event's partition key (default: the line number).")
  private String partitionKey;

  @Option(names = "--events", paramLabel = "N", defaultValue = "100000",
      description = "How many clickstream events to generate when there is no --input (default ${DEFAULT-VALUE}).")
  private int eventCount;

  @Option(names = "--source", paramLabel = "kinesis|kafka|both", defaultValue = "both",
      description = "Where events are produced: the local Kinesis stream, the Kafka topic, or both (default).")
  private String source;

  @Option(names = "--lanes", paramLabel = "N", defaultValue = "2",
      description = "Shards of the stream and partitions of the topic (default ${DEFAULT-VALUE}).")
  private int lanes;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1000",
      description = "The mapping's batch size: records per invocation, at most (default ${DEFAULT-VALUE}).")
  private int batchSize;

  @Option(names = "--app", paramLabel = "NAME",
      description = "SPINDRIFT_APP, also the stream and topic name (default: from the job's name).")
  private String app;

  @Option(names = "--format", paramLabel = "iceberg|delta|hudi",
      description = "Table format (SPINDRIFT_SINK_FORMAT; default: the job's).")
  private String format;

  @Option(names = "--table", paramLabel = "NS.TABLE", description = "Output table (SPINDRIFT_SINK_TABLE; default: the job's).")
  private String table;

  @Option(names = "--mode", paramLabel = "append|upsert", description = "Write mode (SPINDRIFT_SINK_MODE; default: the job's).")
  private String mode;

  @Option(names = "--keys", paramLabel = "COL[,COL]", description = "Upsert key columns (SPINDRIFT_SINK_KEYS).")
  private String keys;

  @Option(names = "--partition-by", paramLabel = "COL",
      description = "Identity partition column of a new table (SPINDRIFT_SINK_PARTITION_BY).")
  private String partitionBy;

  @Option(names = "--fanout", paramLabel = "RECORDS", arity = "0..1", fallbackValue = "2000",
      description = "Fan out batches of more than RECORDS records (default 2000) to two warm local child JVMs"
          + " (SPINDRIFT_FANOUT=auto, SPINDRIFT_FANOUT_INVOKER=local); use with a --batch-size above it.")
  private Integer fanOutRecords;

  @Option(names = "--set", paramLabel = "SPINDRIFT_X=VALUE",
      description = "Any Spindrift setting, as in production (repeatable); wins over the options above.")
  private Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--rows", paramLabel = "N", defaultValue = "5",
      description = "How many of the table's rows to show (default ${DEFAULT-VALUE}).")
  private int rows;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "1200",
      description = "Give up waiting for the events after this long (default ${DEFAULT-VALUE}).")
  private int timeoutSeconds;

  @Option(names = "--keep",
      description = "Keep the local stack running after the run, with how to query the table, until Ctrl-C.")
  private boolean keep;

  @Option(names = "--verbose",
      description = "Show the per-invocation JSON lines and the libraries' logs live (on stderr), not only in the"
          + " log file.")
  private boolean verbose;

  private final Supplier<LocalStack> stacks;
  private final boolean ownsStack;
  private final boolean ownsTerminal;
  private volatile DemoLog log;

  private Demo(Supplier<LocalStack> stacks, boolean ownsStack, boolean ownsTerminal) {
    this.stacks = stacks;
    this.ownsStack = ownsStack;
    this.ownsTerminal = ownsTerminal;
  }

  public static void main(String[] args) {
    System.exit(run(args, null, new PrintWriter(System.out, true), new PrintWriter(System.err, true), true));
  }

  /**
   * Runs the command in this JVM and returns its exit code. With a {@code stack}, runs on it and leaves it up;
   * without, starts the JVM's shared stack and closes it at the end (unless {@code --keep}).
   */
  public static int run(String[] args, LocalStack stack, PrintWriter out, PrintWriter err) {
    return run(args, stack, out, err, false);
  }

  /**
   * As {@link #run(String[], LocalStack, PrintWriter, PrintWriter)}; {@code ownsTerminal} (the command-line demo)
   * sends everything else the JVM prints to a log file ({@link DemoLog}) and shows progress bars on a terminal.
   */
  static int run(String[] args, LocalStack stack, PrintWriter out, PrintWriter err, boolean ownsTerminal) {
    Demo demo = stack == null ? new Demo(LocalStack::shared, true, ownsTerminal)
        : new Demo(() -> stack, false, ownsTerminal);
    CommandLine command = new CommandLine(demo)
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setOut(out)
        .setErr(err)
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("Error: " + messages(e));
          if (demo.log != null) {
            cmd.getErr().println("Log: " + demo.log.file());
          }
          cmd.getErr().flush();
          return 1;
        });
    return command.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    if (!ownsTerminal) {
      return runJob();
    }
    log = DemoLog.route(DemoLog.newFile(), verbose);
    try {
      return runJob();
    } finally {
      log.close();
    }
  }

  private Integer runJob() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<SourceKind> kinds = sourceKinds();
    checkOptions();
    String jobName = jobName();
    EventInput input = inputFile == null ? EventInput.clickstream(eventCount)
        : EventInput.fromFile(inputFile, inputFormat, partitionKey);
    long started = System.currentTimeMillis();
    try (JobJars jobJars = JobJars.open(jars)) {
      if (!isSql(jobName)) {
        jobJars.checkJobClass(jobName);
      }
      out.printf(Locale.ROOT, "Spindrift: %s on %,d events from %s over %s (%s), batch size %d%n",
          jobName, input.size(), input.description(), kindNames(kinds), RunReport.plural(lanes, "lane"), batchSize);
      LocalStack stack = stacks.get();
      boolean stackStays = false;
      try {
        out.println("Local stack up: " + stack.startupTimes().entrySet().stream()
            .map(service -> String.format(Locale.ROOT, "%s %.1f s", service.getKey(),
                service.getValue().toMillis() / 1000.0))
            .collect(Collectors.joining(", ")));
        int exit = run(stack, jobJars, jobName, input, kinds, started);
        stackStays = keep;
        return exit;
      } finally {
        if (ownsStack && !stackStays) {
          stack.close();
        }
      }
    }
  }

  private int run(LocalStack stack, JobJars jobJars, String jobName, EventInput input, List<SourceKind> kinds,
      long started) throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    String appName = appName(jobName);
    try (SpindriftRuntime runtime = SpindriftRuntime.create(LocalPipeline.config(stack, settings(appName, jobName)))) {
      jobJars.shipTo(runtime.spark().sparkContext());
      preflight(runtime, kinds);
      Map<SourceKind, Integer> produced;
      try (DemoProgress progress = progress("produced", input.size())) {
        produced = LocalSources.produce(stack, appName, lanes, kinds, input.events(), n -> progress.update(n, ""));
      }
      long runStart = System.currentTimeMillis();
      LocalMappings mappings = LocalMappings.start(runtime, stack, appName, kinds, batchSize);
      boolean complete;
      long settled;
      try (mappings) {
        complete = awaitSettled(mappings, input.size(), runStart);
        settled = System.currentTimeMillis();
      }
      RunReport report = new RunReport(out, runtime, log == null ? null : log.file());
      boolean exact = report.print(new RunReport.Run(jobName + jobJars.origin(), input, produced, lanes, started,
          runStart, settled, complete), mappings, rows);
      if (keep) {
        QueryHints.print(out, stack, runtime, report, appName, kinds);
        new CountDownLatch(1).await();
      }
      return exact ? 0 : 1;
    }
  }

  /**
   * Plans the job for each source before any event is produced, through the runtime's own set-up (an empty batch
   * commits nothing): a SQL syntax error, an unknown column or a refused stateful plan stops the run here.
   */
  private static void preflight(SpindriftRuntime runtime, List<SourceKind> kinds) {
    for (SourceKind kind : kinds) {
      try {
        runtime.process(new Batch(kind, List.of()));
      } catch (Exception e) {
        // Spark's AnalysisException (a parse error, an unknown column) is checked in Java, thrown undeclared
        throw new IllegalStateException("The job cannot run on " + kind.name().toLowerCase(Locale.ROOT)
            + " input (" + Arrays.stream(kind.schema().fieldNames()).collect(Collectors.joining(", ")) + "): "
            + messages(e), e);
      }
    }
  }

  private boolean awaitSettled(LocalMappings mappings, long expected, long runStart) throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    long deadline = runStart + timeoutSeconds * 1000L;
    try (DemoProgress progress = progress("committed", expected)) {
      while (System.currentTimeMillis() < deadline) {
        long done = mappings.settled();
        progress.update(done, RunReport.plural(mappings.invocations(), "invocation"));
        if (done >= expected) {
          return true;
        }
        Thread.sleep(50);
      }
    }
    out.println("Timed out after " + timeoutSeconds + " s waiting for the mappings to deliver every event");
    return false;
  }

  /** A progress bar when the demo owns a terminal, else plain lines on the demo's output. */
  private DemoProgress progress(String task, long total) {
    PrintWriter out = spec.commandLine().getOut();
    out.flush();
    boolean bar = log != null && DemoProgress.onTerminal();
    return DemoProgress.start(task, "events", total, bar, bar ? log.terminal() : null, out);
  }

  private void checkOptions() {
    check(lanes >= 1 && lanes <= 64, "--lanes", lanes, "1 to 64");
    check(batchSize >= 1 && batchSize <= 10_000, "--batch-size", batchSize, "1 to 10000");
    check(eventCount >= 1, "--events", eventCount, "at least 1");
    check(rows >= 0, "--rows", rows, "0 or more");
    check(timeoutSeconds >= 1, "--timeout", timeoutSeconds, "at least 1 second");
    check(format == null || format.matches("(?i)iceberg|delta|hudi"), "--format", format, "iceberg, delta or hudi");
    check(mode == null || mode.matches("(?i)append|upsert"), "--mode", mode, "append or upsert");
    Set<String> known = Arrays.stream(Setting.values()).map(Setting::key).collect(Collectors.toSet());
    known.add("SPARK_MASTER");
    for (String key : settings.keySet()) {
      check(known.contains(key), "--set", key, "unknown setting" + io.spindrift.config.SpindriftConfig.closestSetting(key)
          .map(closest -> "; did you mean " + closest + "?").orElse("; see README.md's Configuration table"));
    }
  }

  private void check(boolean ok, String option, Object value, String expected) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid " + option + ": '" + value + "' (" + expected + ")");
    }
  }

  private List<SourceKind> sourceKinds() {
    return switch (source.toLowerCase(Locale.ROOT)) {
      case "kinesis" -> List.of(SourceKind.KINESIS);
      case "kafka" -> List.of(SourceKind.KAFKA);
      case "both" -> List.of(SourceKind.KINESIS, SourceKind.KAFKA);
      default -> throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid --source: '" + source + "' (kinesis, kafka or both)");
    };
  }

  private static String kindNames(List<SourceKind> kinds) {
    return kinds.stream().map(k -> k.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(" and "));
  }

  /** The job as SPINDRIFT_JOB names it; a SQL file path becomes absolute (file:...), checked to exist. */
  private String jobName() {
    String name = job == null ? DEFAULT_JOB : job.strip();
    if (!isSql(name) || name.startsWith("classpath:") || name.startsWith("s3://")) {
      return name;
    }
    Path file = Path.of(name.replaceFirst("^file:", "")).toAbsolutePath().normalize();
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("SQL job file not found: " + file);
    }
    return "file:" + file;
  }

  private static boolean isSql(String job) {
    return job.endsWith(".sql");
  }

  /** The app: --app, or "clickstream" for the demo's job, or the job's simple name. */
  private String appName(String jobName) {
    if (app != null) {
      return app;
    }
    if (jobName.equals(DEFAULT_JOB)) {
      return "clickstream";
    }
    String base = jobName.replaceFirst("\\.sql$", "").replaceFirst("^.*[/.:$]", "");
    String clean = base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "_");
    return clean.isEmpty() ? "job" : clean;
  }

  private Map<String, String> settings(String appName, String jobName) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put(Setting.APP.key(), appName);
    all.put(Setting.JOB.key(), jobName);
    putIfGiven(all, Setting.SINK_FORMAT, format);
    putIfGiven(all, Setting.SINK_TABLE, table);
    putIfGiven(all, Setting.SINK_MODE, mode);
    putIfGiven(all, Setting.SINK_KEYS, keys);
    putIfGiven(all, Setting.SINK_PARTITION_BY, partitionBy);
    if (fanOutRecords != null) {
      all.put(Setting.FANOUT.key(), "auto");
      all.put(Setting.FANOUT_INVOKER.key(), "local");
      all.put(Setting.FANOUT_MAX_RECORDS.key(), Integer.toString(fanOutRecords));
      all.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), Integer.toString(Math.max(1, fanOutRecords / 2)));
    }
    all.putAll(settings);
    return all;
  }

  private static void putIfGiven(Map<String, String> settings, Setting setting, String value) {
    if (value != null) {
      settings.put(setting.key(), value);
    }
  }

  /** The messages of an exception and its causes, each once: what a user needs without a stack trace. */
  static String messages(Throwable e) {
    Set<String> parts = new LinkedHashSet<>();
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      String message = message(cause);
      if (parts.stream().noneMatch(p -> p.contains(message))) {
        parts.add(message);
      }
    }
    return String.join(": caused by ", parts);
  }

  /** Spark's analysis errors without the plan they print after the message (a parse error keeps its SQL excerpt). */
  private static String message(Throwable e) {
    if (e instanceof AnalysisException analysis && !(e instanceof ParseException)) {
      return analysis.getSimpleMessage().strip();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
  }
}
