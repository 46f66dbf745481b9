package io.spindrift.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.AwsClients;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** {@code spindrift status}: an app's head, publication and every lane's committed position and lag. */
@Command(name = "status", sortOptions = false, mixinStandardHelpOptions = true,
    headerHeading = "", synopsisHeading = "Usage: ", descriptionHeading = "%n", optionListHeading = "%nOptions:%n",
    header = "Show an app's commit log: head, unpublished commits, rejects, and each lane's position and lag.",
    description = {"For every lane of the stream: the position the app committed and how far the stream's tip is "
        + "beyond it (records for Kafka; records and milliseconds of stream time for Kinesis, counted up to "
        + "10,000). Also the head seq, commits not yet published to the table, the last commit's time and the "
        + "rejects and output rows counted in the commit log, and the state the app keeps (rows, buckets, bytes)."},
    footerHeading = "%nExamples:%n",
    footer = {"  spindrift status --app clickstream --stream clicks",
        "  spindrift status --app clickstream --topic clicks --json \\",
        "      | jq '.lanes[] | select(.lagRecords > 0)'"})
final class StatusCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CliEnvironment env;

  @Option(names = "--app", paramLabel = "NAME", description = "App to show; default: $SPINDRIFT_APP.")
  String app;

  @Mixin
  SourceOptions source = new SourceOptions();

  @Option(names = "--json", description = "Print one JSON object (for scripts).")
  boolean json;

  StatusCommand(CliEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    SpindriftConfig config;
    try {
      config = env.config(app);
    } catch (io.spindrift.config.ConfigException e) {
      throw new BadArgument("--app: " + e.getMessage(), e);
    }
    try (DynamoDbClient dynamo = AwsClients.dynamoDb(config);
        software.amazon.awssdk.services.s3.S3Client s3 = AwsClients.s3(config);
        ReplaySource stream = source.open(env, config)) {
      AppLog log = new AppLog(dynamo, config.get(Setting.COMMIT_TABLE), config.app(),
          new io.spindrift.commit.S3CommitSpill(s3, config.bucket()));
      if (!log.exists()) {
        throw new BadArgument("--app: app '" + config.app() + "' has no commits in table "
            + config.get(Setting.COMMIT_TABLE) + " (check the name, SPINDRIFT_APP or SPINDRIFT_COMMIT_TABLE)");
      }
      List<String> lanes = new ArrayList<>(stream.lag(Map.of()).keySet());
      LogSnapshot snapshot = log.snapshot(lanes);
      Map<String, ReplaySource.Lag> lag = stream.lag(snapshot.lanePositions());
      AppLog.Summary summary = log.summary(snapshot.headSeq());
      StateSize state = StateSize.of(dynamo, config.get(Setting.STATE_TABLE), config.app());
      print(config, snapshot, log.pending(), lag, summary, state);
      return 0;
    }
  }

  private void print(SpindriftConfig config, LogSnapshot snapshot, int pending, Map<String, ReplaySource.Lag> lag,
      AppLog.Summary summary, StateSize state) throws Exception {
    if (json) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("app", config.app());
      out.put("headSeq", snapshot.headSeq());
      out.put("publishedSeq", snapshot.publishedSeq());
      out.put("unpublishedCommits", snapshot.headSeq() - snapshot.publishedSeq() + pending);
      out.put("unsequencedCommits", pending);
      out.put("lastCommitAt", summary.lastCommitMs() == null ? null : Instant.ofEpochMilli(summary.lastCommitMs()).toString());
      out.put("rejects", summary.rejected());
      out.put("outputRows", summary.outputRows());
      out.put("state", Map.of("rows", state.rows(), "buckets", state.buckets(), "bytes", state.bytes(),
          "spilledRows", state.spilledRows()));
      List<Map<String, Object>> lanes = new ArrayList<>();
      lag.forEach((lane, l) -> {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("lane", lane);
        row.put("position", snapshot.lanePositions().get(lane));
        row.put("lagRecords", l.records());
        row.put("lagMillis", l.millis());
        row.put("closed", l.closed());
        lanes.add(row);
      });
      out.put("lanes", lanes);
      env.out().println(JSON.writeValueAsString(out));
      return;
    }
    StringBuilder text = new StringBuilder();
    text.append(String.format("App '%s' (commit table %s)%n", config.app(), config.get(Setting.COMMIT_TABLE)));
    text.append(String.format("  head seq            %d%n", snapshot.headSeq()));
    text.append(String.format("  unpublished         %d (published to seq %d%s)%n",
        snapshot.headSeq() - snapshot.publishedSeq() + pending, snapshot.publishedSeq(),
        pending == 0 ? "" : "; " + pending + " lane commits not yet sequenced"));
    text.append(String.format("  last commit         %s%n",
        summary.lastCommitMs() == null ? "-" : Instant.ofEpochMilli(summary.lastCommitMs())));
    text.append(String.format("  rejects             %,d (output rows %,d)%n", summary.rejected(), summary.outputRows()));
    text.append(String.format("  state               %,d rows in %,d buckets, %,d bytes%s%n", state.rows(),
        state.buckets(), state.bytes(), state.spilledRows() == 0 ? ""
            : String.format(" (%,d values in S3)", state.spilledRows())));
    text.append(String.format("%n  %-44s %-28s %s%n", "LANE", "POSITION", "BEHIND THE TIP"));
    lag.forEach((lane, l) -> text.append(String.format("  %-44s %-28s %s%n", lane,
        snapshot.lanePositions().getOrDefault(lane, "-"), behind(l))));
    env.out().print(text);
    env.out().flush();
  }

  private static String behind(ReplaySource.Lag lag) {
    String records = lag.records() == null ? "more than 10,000 records" : String.format("%,d records", lag.records());
    String time = lag.millis() == null ? "" : String.format(", %,d ms", lag.millis());
    return records + time + (lag.closed() ? " (closed shard)" : "");
  }
}
