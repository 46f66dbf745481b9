package io.spindrift.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.AwsClients;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** {@code spindrift replay}: a range of a stream through the app's exactly-once runtime. */
@Command(name = "replay", sortOptions = false, mixinStandardHelpOptions = true,
    headerHeading = "", synopsisHeading = "Usage: ", descriptionHeading = "%n", optionListHeading = "%nOptions:%n",
    header = "Replay a range of a Kinesis stream, Kafka topic or S3 archive through an app, exactly once.",
    description = {
        "Reads the range lane by lane (a Kinesis shard's parents before it, as Lambda's mapping does) and runs it in "
            + "batches through the same runtime as the deployed handler: the app's job, commit log and table. "
            + "Records at or below a lane's committed position are dropped, so a range the app already committed "
            + "changes nothing, and a replay running beside the live mapping never counts a record twice.",
        "",
        "Progress is kept in DynamoDB after every batch: run the same command again after Ctrl-C or a crash and it "
            + "resumes where it stopped (--restart starts over; the result is the same either way).",
        "",
        "Times are ISO-8601 (2026-12-03T10:00:00Z; a date or a time without zone is UTC). Positions are per lane: "
            + "SHARD=SEQUENCE for Kinesis (shardId-000000000001=4960...), PARTITION=OFFSET for Kafka (3=1200)."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  spindrift replay --app clickstream --stream clicks \\",
        "      --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z",
        "  spindrift replay --app clickstream --topic clicks --dry-run \\",
        "      --from-position 0=1200 --to-position 0=5000",
        "  spindrift replay --app v2 --new-app --stream clicks -p 4 --rate-limit 20000",
        "  spindrift replay --app clicks_v2 --new-app --archive clickstream"})
final class ReplayCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CliEnvironment env;

  @Option(names = "--app", paramLabel = "NAME", description = "App to replay into; default: $SPINDRIFT_APP.")
  String app;

  @Mixin
  SourceOptions source = new SourceOptions();

  @Option(names = "--from", paramLabel = "TIME", defaultValue = "earliest",
      description = "Start at the first record at or after TIME (Kinesis AT_TIMESTAMP, Kafka offsetsForTimes); "
          + "'earliest' (default): each lane's oldest record (TRIM_HORIZON).")
  String from;

  @Option(names = "--to", paramLabel = "TIME", defaultValue = "latest",
      description = "End before the first record at or after TIME; 'latest' (default): each lane's tip when it is read.")
  String to;

  @Option(names = "--from-position", paramLabel = "LANE=POSITION",
      description = "Start this lane at POSITION, inclusive (AT_SEQUENCE_NUMBER or offset); repeatable; wins over --from.")
  Map<String, String> fromPositions = new HashMap<>();

  @Option(names = "--to-position", paramLabel = "LANE=POSITION",
      description = "End this lane at POSITION, inclusive; repeatable; wins over --to.")
  Map<String, String> toPositions = new HashMap<>();

  @Option(names = "--function", paramLabel = "NAME|ARN",
      description = "Invoke the deployed function with each batch (as its event-source mapping would, split under "
          + "Lambda's 6 MB payload cap) instead of running the runtime in this process.")
  String function;

  @Option(names = "--lambda-endpoint", paramLabel = "URL",
      description = "Lambda endpoint override; default: $SPINDRIFT_LAMBDA_ENDPOINT, else AWS.")
  String lambdaEndpoint;

  @Option(names = "--max-payload-bytes", paramLabel = "BYTES", defaultValue = "6291456", hidden = true,
      description = "Largest event sent to --function (default: Lambda's synchronous cap, 6 MB).")
  int maxPayloadBytes;

  @Option(names = "--new-app", description = "Allow an app that has never committed (a new table from history).")
  boolean newApp;

  @Option(names = {"-n", "--dry-run"},
      description = "Read the range and print records, bytes, lanes, estimated time and Lambda cost; write nothing.")
  boolean dryRun;

  @Option(names = "--rate-limit", paramLabel = "RECORDS/S", defaultValue = "0",
      description = "At most this many records per second over all lanes (default: no limit).")
  double rateLimit;

  @Option(names = {"-p", "--parallelism"}, paramLabel = "LANES", defaultValue = "1",
      description = "Lanes replayed at once, each in its own runtime (default: ${DEFAULT-VALUE}).")
  int parallelism;

  @Option(names = "--batch-size", paramLabel = "RECORDS", defaultValue = "1000",
      description = "Records per batch (per invocation), at most (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--rebuild",
      description = "Rebuild the app's table from the range into a new app and a new table, then swap it in for the"
          + " live table in one catalog commit (Iceberg; the old table stays registered as <table>_before_<time>)."
          + " Prints the cut-over: the live function switches to the new app (README, Replay).")
  boolean rebuild;

  @Option(names = "--fanout",
      description = "Run each batch of the local target on child executors (DESIGN §8, docs/FANOUT.md): warm local"
          + " child JVMs (SPINDRIFT_FANOUT_LOCAL_CHILDREN), the parent committing once per batch. With --function, set"
          + " SPINDRIFT_FANOUT=auto on the function instead.")
  boolean fanOut;

  @Option(names = "--replay-id", paramLabel = "ID",
      description = "Names the progress to resume; default: derived from app, stream and range.")
  String replayId;

  @Option(names = "--restart", description = "Forget this replay's progress and start from the range's start.")
  boolean restart;

  @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Progress bars with ETA per lane and overall on stderr (default: when stderr is a terminal).")
  boolean progress;

  @Option(names = "--progress-table", paramLabel = "TABLE", defaultValue = "spindrift_replay",
      description = "DynamoDB table of replay progress items (default: ${DEFAULT-VALUE}).")
  String progressTable;

  @Option(names = "--lambda-memory-mb", paramLabel = "MB", defaultValue = "4096",
      description = "Function memory the cost estimate assumes (default: ${DEFAULT-VALUE}, the CDK app's).")
  int memoryMb;

  @Option(names = "--json", description = "Print the summary as one JSON object.")
  boolean json;

  ReplayCommand(CliEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    RangeSpec range = range();
    require(parallelism >= 1, "--parallelism: must be at least 1, not " + parallelism);
    require(batchSize >= 1, "--batch-size: must be at least 1, not " + batchSize);
    require(rateLimit >= 0, "--rate-limit: must not be negative, not " + rateLimit);
    SpindriftConfig config = config();
    Rebuild rebuilding = null;
    if (rebuild) {
      require(function == null, "--rebuild: rebuilds run in this process (the table swap needs its catalog); drop"
          + " --function");
      require(!dryRun, "--rebuild: a dry run writes nothing and swaps nothing; drop --dry-run");
      rebuilding = Rebuild.prepare(config);
      config = rebuilding.rebuiltConfig();
      newApp = true;
    }
    try {
      int exit = replayWith(config, range);
      if (exit == 0 && rebuilding != null) {
        rebuilding.swapAndReport(env.err());
      }
      return exit;
    } finally {
      if (rebuilding != null) {
        rebuilding.close();
      }
    }
  }

  private int replayWith(SpindriftConfig config, RangeSpec range) throws Exception {
    try (ReplaySource stream = source.open(env, config);
        DynamoDbClient dynamo = AwsClients.dynamoDb(config);
        software.amazon.awssdk.services.s3.S3Client s3 = AwsClients.s3(config)) {
      AppLog log = new AppLog(dynamo, config.get(Setting.COMMIT_TABLE), config.app(),
          new io.spindrift.commit.S3CommitSpill(s3, config.bucket()));
      require(newApp || log.exists(), "--app: app '" + config.app() + "' has no commits in table "
          + config.get(Setting.COMMIT_TABLE) + "; check the name (or SPINDRIFT_APP), or pass --new-app to build a"
          + " new app from history");
      List<LanePlan> plans = stream.plan(range);
      checkLanes(plans, fromPositions, "--from-position");
      checkLanes(plans, toPositions, "--to-position");
      String id = replayId != null ? replayId : defaultId(config.app(), stream, range);
      return dryRun ? dryRun(stream, range, log, plans) : replay(stream, range, log, plans, dynamo, config, id);
    }
  }

  private SpindriftConfig config() {
    require(!fanOut || function == null, "--fanout: the deployed function fans out by its own settings (set"
        + " SPINDRIFT_FANOUT=auto on it); --fanout is for the local target");
    try {
      SpindriftConfig config = env.config(app);
      if (!fanOut) {
        return config;
      }
      java.util.Map<String, String> fanOutSettings = new java.util.HashMap<>();
      fanOutSettings.put(Setting.FANOUT.key(), "always");
      fanOutSettings.put(Setting.FANOUT_INVOKER.key(), "local");
      if (config.get(Setting.FANOUT_RECORDS_PER_CHILD).equals(Setting.FANOUT_RECORDS_PER_CHILD.defaultValue())) {
        fanOutSettings.put(Setting.FANOUT_RECORDS_PER_CHILD.key(),
            Integer.toString(Math.max(1, (batchSize + 1) / 2)));
      }
      return config.with(fanOutSettings);
    } catch (io.spindrift.config.ConfigException e) {
      throw new BadArgument((app != null && e.getMessage().contains(Setting.APP.key()) ? "--app: " : "")
          + e.getMessage(), e);
    }
  }

  private int replay(ReplaySource stream, RangeSpec range, AppLog log, List<LanePlan> plans, DynamoDbClient dynamo,
      SpindriftConfig config, String id) throws InterruptedException {
    ReplayProgress progressItems = new ReplayProgress(dynamo, progressTable, config.app(), id);
    progressItems.ensureTable();
    if (restart) {
      progressItems.clear();
    }
    long started = System.nanoTime();
    Map<String, ReplayCounts> lanes;
    long retried;
    try (ReplayTarget target = target(config);
        ProgressDisplay display = display(plans, range)) {
      Replayer replayer = new Replayer(stream, range, log, progressItems, target, options(), display, env.err());
      lanes = replayer.run(plans);
      retried = replayer.retriedRecords();
    }
    double wallSeconds = (System.nanoTime() - started) / 1e9;
    ReplayCounts total = total(lanes);
    CostModel cost = new CostModel(memoryMb);
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("app", config.app());
    summary.put("replayId", id);
    summary.put("source", describe(stream));
    summary.put("lanes", plans.size());
    summary.putAll(total.asMap());
    summary.put("retried", retried);
    summary.put("wallSeconds", round(wallSeconds));
    summary.put("recordsPerSecond", Math.round(total.get("read") / Math.max(wallSeconds, 1e-3)));
    summary.put("lambdaUsd", cost.usd(total.get("invocations"), total.get("processingMs")));
    print(summary, String.format(
        "Replayed %s into app '%s' (replay %s)%n"
            + "  lanes               %d%n"
            + "  records read        %,d (%s)%n"
            + "  committed           %,d%n"
            + "  duplicates dropped  %,d%s%n"
            + "  output rows         %,d%n"
            + "  rejects             %,d%n"
            + "  commits             %,d%n"
            + "  wall time           %.1f s (%,d records/s)%n"
            + "  Lambda cost         $%.4f (%d MB, %,.0f GB-s, %,d invocations)%n",
        describe(stream), config.app(), id, plans.size(), total.get("read"), bytes(total.get("bytes")),
        total.get("committed"), total.get("duplicates"), retried == 0 ? ""
            : String.format(" (%,d records were in batches tried again: a failed attempt may have committed them)",
                retried),
        total.get("output"), total.get("rejected"),
        total.get("commits"), wallSeconds, (Long) summary.get("recordsPerSecond"),
        (Double) summary.get("lambdaUsd"), memoryMb, total.get("processingMs") / 1000.0 * memoryMb / 1024.0,
        total.get("invocations")));
    return 0;
  }

  private ReplayTarget target(SpindriftConfig config) {
    if (function == null) {
      return new LocalTarget(config, parallelism);
    }
    String endpoint = lambdaEndpoint != null ? lambdaEndpoint : env.variable("SPINDRIFT_LAMBDA_ENDPOINT", null);
    // the handlers read only the stream's name from the event's ARN: the account is not needed
    return new LambdaTarget(CliEnvironment.lambda(config, endpoint), function,
        new LambdaEvents(config.region(), "000000000000"), maxPayloadBytes);
  }

  private int dryRun(ReplaySource stream, RangeSpec range, AppLog log, List<LanePlan> plans)
      throws InterruptedException {
    Map<String, ReplayCounts> lanes;
    try (ProgressDisplay display = display(plans, range)) {
      lanes = new Replayer(stream, range, log, null, null, options(), display, env.err()).run(plans);
    }
    ReplayCounts total = total(lanes);
    long toCommit = total.get("committed");
    long batches = 0;
    for (ReplayCounts lane : lanes.values()) {
      batches += (lane.get("committed") + batchSize - 1) / batchSize;
    }
    CostModel cost = new CostModel(memoryMb);
    double functionMs = cost.estimatedMs(toCommit, batches);
    double wallSeconds = functionMs / 1000.0 / Math.min(parallelism, Math.max(1, plans.size()));
    if (rateLimit > 0) {
      wallSeconds = Math.max(wallSeconds, toCommit / rateLimit);
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("dryRun", true);
    summary.put("source", describe(stream));
    summary.put("lanes", plans.size());
    summary.put("records", total.get("read"));
    summary.put("bytes", total.get("bytes"));
    summary.put("alreadyCommitted", total.get("duplicates"));
    summary.put("toCommit", toCommit);
    summary.put("batches", batches);
    summary.put("estimatedSeconds", round(wallSeconds));
    summary.put("estimatedLambdaUsd", cost.usd(batches, functionMs));
    Map<String, Long> perLane = new LinkedHashMap<>();
    lanes.forEach((lane, counts) -> perLane.put(lane, counts.get("read")));
    summary.put("recordsPerLane", perLane);
    StringBuilder text = new StringBuilder(String.format(
        "Dry run of %s (nothing written)%n"
            + "  lanes               %d%n"
            + "  records             %,d (%s)%n"
            + "  already committed   %,d (would be dropped)%n"
            + "  to commit           %,d in %,d batches of up to %,d%n"
            + "  estimated time      %.0f s at parallelism %d%s%n"
            + "  estimated cost      $%.4f (%d MB)%n",
        describe(stream), plans.size(), total.get("read"), bytes(total.get("bytes")), total.get("duplicates"),
        toCommit, batches, batchSize, wallSeconds, parallelism,
        rateLimit > 0 ? String.format(", %,.0f records/s limit", rateLimit) : "",
        (Double) summary.get("estimatedLambdaUsd"), memoryMb));
    perLane.forEach((lane, records) -> text.append(String.format("    %-40s %,d records%n", lane, records)));
    print(summary, text.toString());
    return 0;
  }

  private Replayer.Options options() {
    // raw bytes per batch: base64 and the event's JSON make Lambda's payload about 1.4 times larger
    long maxBatchBytes = function == null ? 5L * 1024 * 1024 : maxPayloadBytes * 5L / 8;
    return new Replayer.Options(batchSize, maxBatchBytes, parallelism, rateLimit, 3);
  }

  private ProgressDisplay display(List<LanePlan> plans, RangeSpec range) {
    boolean bars = progress && System.console() != null;
    long endMs = range.endTime() == null ? System.currentTimeMillis() : range.endTime().toEpochMilli();
    return new ProgressDisplay(bars, env.err(), plans.size(), endMs);
  }

  private void print(Map<String, Object> summary, String text) {
    if (json) {
      try {
        env.out().println(JSON.writeValueAsString(summary));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    } else {
      env.out().print(text);
    }
    env.out().flush();
  }

  private RangeSpec range() {
    Instant start = "earliest".equalsIgnoreCase(from) ? null : time(from, "--from");
    Instant end = "latest".equalsIgnoreCase(to) ? null : time(to, "--to");
    require(start == null || end == null || end.isAfter(start),
        "--to: " + end + " is not after --from " + start + " (the range would be empty)");
    fromPositions.forEach((lane, position) -> position(position, "--from-position"));
    toPositions.forEach((lane, position) -> position(position, "--to-position"));
    toPositions.forEach((lane, position) -> {
      String begin = fromPositions.get(lane);
      require(begin == null || new java.math.BigInteger(position).compareTo(new java.math.BigInteger(begin)) >= 0,
          "--to-position: lane " + lane + " ends at " + position + ", before its --from-position " + begin);
    });
    return new RangeSpec(start, fromPositions, end, toPositions);
  }

  private static Instant time(String value, String option) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException notInstant) {
      try {
        return LocalDateTime.parse(value).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException notLocal) {
        try {
          return LocalDate.parse(value).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException notDate) {
          throw new BadArgument(option + ": '" + value + "' is not a time (ISO-8601, e.g. "
              + "2026-12-03T10:00:00Z)");
        }
      }
    }
  }

  private static void position(String value, String option) {
    require(value.matches("[0-9]+"), option + ": '" + value + "' is not a position (a decimal sequence number or offset)");
  }

  private static void checkLanes(List<LanePlan> plans, Map<String, String> positions, String option) {
    var known = new HashSet<String>();
    plans.forEach(plan -> known.add(plan.sourceId()));
    positions.keySet().forEach(lane -> require(known.contains(lane), option + ": the stream has no lane '" + lane
        + "' (lanes: " + known + ")"));
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new BadArgument(message);
    }
  }

  private static String defaultId(String app, ReplaySource stream, RangeSpec range) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(
          (app + "|" + stream.kind() + "|" + stream.name() + "|" + range.describe()).getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest, 0, 6);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ReplayCounts total(Map<String, ReplayCounts> lanes) {
    ReplayCounts total = new ReplayCounts();
    lanes.values().forEach(total::addAll);
    return total;
  }

  private static String describe(ReplaySource stream) {
    if (stream instanceof ArchiveSource) {
      return "the archive " + stream.name();
    }
    return (stream.kind() == io.spindrift.event.SourceKind.KINESIS ? "Kinesis stream '" : "Kafka topic '")
        + stream.name() + "'";
  }

  private static String bytes(long bytes) {
    return bytes < 1024 * 1024 ? String.format("%,d bytes", bytes) : String.format("%.1f MB", bytes / 1048576.0);
  }

  private static double round(double seconds) {
    return Math.round(seconds * 10) / 10.0;
  }
}
