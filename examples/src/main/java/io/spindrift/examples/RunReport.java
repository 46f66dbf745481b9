package io.spindrift.examples;

import io.spindrift.config.Setting;
import io.spindrift.event.SourceKind;
import io.spindrift.job.PassThroughJob;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The summary of a local run, read back the way a user would: the output and rejects tables through Spark, the
 * commit log's counts, the mappings' invocations and latencies. {@link #print} also decides whether the run was
 * exactly once:
 * <ul>
 *   <li>every run: the commit log holds exactly the records produced, none went to the on-failure destination,
 *       and (append mode) the tables hold exactly the rows the commits staged;</li>
 *   <li>the built-in jobs ({@link Clickstream}, {@link PassThroughJob}), one row per event: every event is in the
 *       table or the rejects, once (distinct event ids for the clickstream).</li>
 * </ul>
 */
final class RunReport {
  /** Lambda x86 price, us-east-1: per GB-second and per request. */
  private static final double PRICE_GB_SECOND = 0.0000166667;
  private static final double PRICE_REQUEST = 0.20 / 1_000_000;
  private static final double MEMORY_GB = 3008 / 1024.0;
  private static final int SHOWN_REJECTS = 3;
  private static final int CELL_WIDTH = 40;

  /**
   * What the run did before the report.
   *
   * @param job the job as the user named it, and where it came from
   * @param input the events produced
   * @param produced how many events went to each source
   * @param lanes shards per stream, partitions per topic
   * @param startedMs when the run started
   * @param runStartMs when the mappings started
   * @param settledMs when every event was settled (acknowledged or given up), or the wait timed out
   * @param complete whether every event was settled before the timeout
   */
  record Run(String job, EventInput input, Map<SourceKind, Integer> produced, int lanes, long startedMs,
      long runStartMs, long settledMs, boolean complete) {}

  private static final int LINE_WIDTH = 110;
  private static final int ROW_WIDTH = 120;

  private final PrintWriter out;
  private final SpindriftRuntime runtime;
  private final SparkSession spark;
  private final java.nio.file.Path logFile;

  /** A report on {@code out}; {@code logFile}, when not null, is where the run's logs went (named in the summary). */
  RunReport(PrintWriter out, SpindriftRuntime runtime, java.nio.file.Path logFile) {
    this.out = out;
    this.runtime = runtime;
    this.spark = runtime.spark();
    this.logFile = logFile;
  }

  /** Prints the summary, the table's schema and its first {@code firstRows} rows; returns true if exactly once. */
  boolean print(Run run, LocalMappings mappings, int firstRows) {
    boolean published = runtime.awaitPublication();
    SinkSpec sink = runtime.sink();
    Dataset<Row> table = read(sink.table());
    Dataset<Row> rejects = read(runtime.rejectsTable());
    long rows = table == null ? 0 : table.count();
    long rejected = rejects == null ? 0 : rejects.count();
    CommitTotals commits = CommitTotals.read(runtime.config());
    long events = run.input().size();

    out.println();
    out.println("=== Spindrift run summary ===");
    line("job", run.job() + " -> " + sink.format().name().toLowerCase(Locale.ROOT) + " table " + sink.table() + " ("
        + sink.mode().name().toLowerCase(Locale.ROOT) + (sink.isUpsert() ? " on " + sink.keys() : "") + ")");
    line("events produced", String.format(Locale.ROOT, "%,d from %s%s into %s", events, run.input().description(),
        run.input().malformed() > 0 ? " (" + run.input().malformed() + " malformed on purpose)" : "",
        produced(run)));
    line("commit log", String.format(Locale.ROOT,
        "%,d commits: %,d records, %,d output rows, %,d rejected, %,d redelivered records dropped",
        commits.commits(), commits.records(), commits.output(), commits.rejected(), commits.duplicates()));
    line("rows in " + sink.table(), String.format(Locale.ROOT, "%,d", rows));
    line("rejects", String.format(Locale.ROOT, "%,d (in %s)", rejected, runtime.rejectsTable()));
    printFirstRejects(rejects);
    line("to failure destination", String.format(Locale.ROOT, "%,d records", mappings.givenUp()));
    mappings.failureDescriptions().stream().limit(SHOWN_REJECTS).forEach(f -> out.println("    " + f));
    if (!mappings.functionErrors().isEmpty()) {
      line("function errors", "(each retried as Lambda does) first: ");
      mappings.functionErrors().forEach(e -> out.println("    " + e));
    }
    printLatencyAndCost(run, mappings);
    if (table != null) {
      printTable(sink.table(), table, firstRows);
    } else {
      out.println("Table " + sink.table() + ": not created yet (no batch has written a row to it)");
    }
    if (runtime.job() instanceof Clickstream && table != null) {
      printTopPages(table);
    }
    line("wall time", String.format(Locale.ROOT, "%.1f s", (System.currentTimeMillis() - run.startedMs()) / 1000.0));
    if (logFile != null) {
      line("log", logFile + " (invocations' JSON lines, library warnings)");
    }
    List<String> problems = problems(run, commits, rows, rejected, table, mappings);
    if (!published) {
      problems.add("a deferred publish failed: committed rows are not all in the table yet");
    }
    if (problems.isEmpty()) {
      out.println(exactlyOnceLine(events));
    } else {
      problems.forEach(p -> out.println("MISMATCH: " + p));
    }
    out.flush();
    return problems.isEmpty();
  }

  private String exactlyOnceLine(long events) {
    if (runtime.job() instanceof Clickstream || runtime.job() instanceof PassThroughJob) {
      return "EXACTLY ONCE: every event is in the table or the rejects, once.";
    }
    return String.format(Locale.ROOT, "EXACTLY ONCE: the commit log holds each of the %,d events once, and the"
        + " tables hold exactly the rows its commits staged.", events);
  }

  private List<String> problems(Run run, CommitTotals commits, long rows, long rejected, Dataset<Row> table,
      LocalMappings mappings) {
    long events = run.input().size();
    List<String> problems = new ArrayList<>();
    if (!run.complete()) {
      problems.add("timed out before every event was processed");
    }
    if (commits.records() != events) {
      problems.add(String.format(Locale.ROOT, "the commit log holds %,d records but %,d events were produced (%s)",
          commits.records(), events, commits.records() < events ? "lost" : "duplicated"));
    }
    if (mappings.givenUp() > 0) {
      problems.add(mappings.givenUp() + " records went to the on-failure destination (lost to the table)");
    }
    if (!runtime.sink().isUpsert() && rows != commits.output()) {
      problems.add(String.format(Locale.ROOT, "the table holds %,d rows but its commits staged %,d", rows,
          commits.output()));
    }
    if (rejected != commits.rejected()) {
      problems.add(String.format(Locale.ROOT, "the rejects table holds %,d rows but the commits staged %,d",
          rejected, commits.rejected()));
    }
    boolean oneRowPerEvent = runtime.job() instanceof Clickstream || runtime.job() instanceof PassThroughJob;
    if (oneRowPerEvent && !runtime.sink().isUpsert() && rows + rejected != events) {
      problems.add(String.format(Locale.ROOT, "table %,d + rejects %,d != %,d events produced", rows, rejected,
          events));
    }
    if (runtime.job() instanceof Clickstream && table != null) {
      long distinct = table.select("event_id").distinct().count();
      if (distinct != rows) {
        problems.add(String.format(Locale.ROOT, "%,d rows but %,d distinct event ids", rows, distinct));
      }
    }
    return problems;
  }

  private String produced(Run run) {
    List<String> parts = new ArrayList<>();
    run.produced().forEach((kind, count) -> parts.add(String.format(Locale.ROOT, "%s %,d (%s)",
        kind.name().toLowerCase(Locale.ROOT), count,
        plural(run.lanes(), kind == SourceKind.KINESIS ? "shard" : "partition"))));
    return String.join(", ", parts);
  }

  private void printFirstRejects(Dataset<Row> rejects) {
    if (rejects == null) {
      return;
    }
    for (Row row : rejects.select("lane", "position", "error")
        .orderBy(org.apache.spark.sql.functions.col("lane"), org.apache.spark.sql.functions.col("position").cast("decimal(38,0)"))
        .limit(SHOWN_REJECTS).collectAsList()) {
      out.println("    " + row.get(0) + " @ " + row.get(1) + ": " + row.get(2));
    }
  }

  private void printLatencyAndCost(Run run, LocalMappings mappings) {
    List<Long> latencies = new ArrayList<>(mappings.latenciesMs());
    Collections.sort(latencies);
    long totalMs = latencies.stream().mapToLong(Long::longValue).sum();
    long invocations = mappings.invocations();
    double gbSeconds = totalMs / 1000.0 * MEMORY_GB;
    double dollars = gbSeconds * PRICE_GB_SECOND + invocations * PRICE_REQUEST;
    double seconds = Math.max(0.001, (run.settledMs() - run.runStartMs()) / 1000.0);
    line("batches (invocations)", String.format(Locale.ROOT, "%,d, commit conflicts %d", invocations,
        runtime.conflicts()));
    var fanOut = runtime.fanOutTotals();
    if (fanOut.batches() > 0) {
      line("fanned out", String.format(Locale.ROOT, "%,d batches (%,d records) to %,d child invocations",
          fanOut.batches(), fanOut.records(), fanOut.childInvocations()));
    }
    line("batch latency", String.format(Locale.ROOT, "p50 %d ms, p95 %d ms, max %d ms", percentile(latencies, 50),
        percentile(latencies, 95), percentile(latencies, 100)));
    line("processing time", String.format(Locale.ROOT, "%.1f s for %,d events (%,.0f events/s)", seconds,
        run.input().size(), run.input().size() / seconds));
    line("Lambda cost estimate", String.format(Locale.ROOT,
        "%.1f GB-s at %.2f GB -> $%.6f (x86 $%.10f/GB-s + $0.20/M requests)", gbSeconds, MEMORY_GB, dollars,
        PRICE_GB_SECOND));
  }

  private void printTable(String name, Dataset<Row> table, int firstRows) {
    List<String> columns = Arrays.stream(table.schema().fields())
        .map(f -> f.name() + " " + f.dataType().simpleString()).toList();
    wrapped("Table " + name + " (" + plural(columns.size(), "column") + "): ", columns);
    if (firstRows <= 0) {
      return;
    }
    List<Row> rows = table.limit(firstRows).collectAsList();
    out.println("First " + rows.size() + " rows:");
    out.println(fitted("  " + String.join(" | ", Arrays.stream(table.columns()).map(RunReport::cell).toList())));
    for (Row row : rows) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < row.size(); i++) {
        Object value = row.get(i);
        cells.add(cell(value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
            : String.valueOf(value)));
      }
      out.println(fitted("  " + String.join(" | ", cells)));
    }
  }

  /** A row cut to one line of a wide terminal, so the summary fits on one screen. */
  static String fitted(String line) {
    return line.length() <= ROW_WIDTH ? line : line.substring(0, ROW_WIDTH - 3) + "...";
  }

  private static String cell(String value) {
    String oneLine = value.replace('\n', ' ');
    return oneLine.length() <= CELL_WIDTH ? oneLine : oneLine.substring(0, CELL_WIDTH - 3) + "...";
  }

  private void printTopPages(Dataset<Row> table) {
    table.createOrReplaceTempView("spindrift_run_output");
    out.println("Top pages by views:");
    for (Row row : spark.sql("SELECT page, count(*) AS views, count(DISTINCT user_id) AS users"
        + " FROM spindrift_run_output WHERE action = 'view' GROUP BY page ORDER BY views DESC LIMIT 5").collectAsList()) {
      out.printf(Locale.ROOT, "  %-28s %,8d views %,6d users%n", row.getString(0), row.getLong(1), row.getLong(2));
    }
  }

  /** {@code items} joined with commas after {@code head}, wrapped at the line width and indented. */
  private void wrapped(String head, List<String> items) {
    StringBuilder line = new StringBuilder(head);
    boolean lineHasItem = false;
    for (int i = 0; i < items.size(); i++) {
      String item = items.get(i) + (i < items.size() - 1 ? "," : "");
      if (lineHasItem && line.length() + 1 + item.length() > LINE_WIDTH) {
        out.println(line);
        line = new StringBuilder("   ");
        lineHasItem = false;
      }
      line.append(lineHasItem ? " " : "").append(item);
      lineHasItem = true;
    }
    out.println(line);
  }

  private void line(String label, String value) {
    out.printf(Locale.ROOT, "%-22s %s%n", label, value);
  }

  /**
   * The table read the way a user would: through the Iceberg catalog, or with {@code spark.read.format("delta"|
   * "hudi")} at its S3 location. Returns null when it does not exist (no batch wrote to it).
   */
  Dataset<Row> read(String table) {
    try {
      Dataset<Row> rows = switch (runtime.sink().format()) {
        case ICEBERG -> spark.read().table(runtime.config().get(Setting.CATALOG_NAME) + "." + table);
        case DELTA, HUDI -> spark.read().format(runtime.sink().format().name().toLowerCase(Locale.ROOT))
            .load(location(table));
      };
      rows.schema();
      return rows;
    } catch (Exception absent) {
      return null;
    }
  }

  /** The S3A location of a Delta or Hudi table. */
  String location(String table) {
    return runtime.config().warehouse().replaceFirst("^s3:", "s3a:") + "/" + table.replace('.', '/');
  }

  static String plural(long count, String noun) {
    return count + " " + noun + (count == 1 ? "" : "s");
  }

  static long percentile(List<Long> sorted, int p) {
    if (sorted.isEmpty()) {
      return 0;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }
}
