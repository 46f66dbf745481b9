package io.spindrift.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.config.ConfigException;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.SourceKind;
import io.spindrift.fanout.S3BatchRun;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.s3.S3Client;

/** {@code spindrift batch}: the app's job over S3 objects, in commits of at most 1 GiB each (docs/FANOUT.md). */
@Command(name = "batch", sortOptions = false, mixinStandardHelpOptions = true,
    headerHeading = "", synopsisHeading = "Usage: ", descriptionHeading = "%n", optionListHeading = "%nOptions:%n",
    header = "Run an app's job over newline-delimited records in S3 objects, exactly once.",
    description = {
        "Lists the objects under the prefix (in key order), cuts them into splits of at most --split-mb and the "
            + "splits into chunks of at most --max-mb-per-commit, and runs each chunk's records (one per line) as "
            + "one batch through the same runtime as the deployed handler, committed once on the lane "
            + "s3:<bucket>/<prefix>. Each line is the job's payload: Kinesis's data column (--as kinesis) or Kafka's "
            + "value (--as kafka).",
        "",
        "A rerun over the same input changes nothing that is committed (its records are at or below the lane's "
            + "position): a run that failed resumes after its last commit. The input must not change between runs; "
            + "put new data under a new prefix. With --fanout, or SPINDRIFT_FANOUT=auto over its limits, each "
            + "chunk runs on child executors that read their splits from the input objects themselves."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  spindrift batch --app clickstream --input s3://my-bucket/clicks/2026-12-01/",
        "  spindrift batch --app clickstream --input s3://my-bucket/clicks/ --split-mb 16 --fanout",
        "  spindrift batch --app clickstream --input s3://my-bucket/clicks/ --max-mb-per-commit 4096"})
final class BatchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CliEnvironment env;

  @Option(names = "--app", paramLabel = "NAME", description = "App to run into; default: $SPINDRIFT_APP.")
  String app;

  @Option(names = "--input", required = true, paramLabel = "s3://BUCKET/PREFIX",
      description = "The objects to read: every object whose key starts with PREFIX.")
  String input;

  @Option(names = "--as", paramLabel = "KIND", defaultValue = "kinesis",
      description = "The input schema the job reads: kinesis or kafka (default: ${DEFAULT-VALUE}).")
  String kind;

  @Option(names = "--split-mb", paramLabel = "MB", defaultValue = "64",
      description = "Largest split, in MiB (default: ${DEFAULT-VALUE}).")
  long splitMb;

  @Option(names = "--split-bytes", paramLabel = "BYTES", hidden = true,
      description = "Largest split, in bytes (overrides --split-mb; tests).")
  Long splitBytes;

  @Option(names = "--max-mb-per-commit", paramLabel = "MB", defaultValue = "1024",
      description = "Largest commit, in MiB of input (whole splits, at least one; default: ${DEFAULT-VALUE}).")
  long maxMbPerCommit;

  @Option(names = "--max-bytes-per-commit", paramLabel = "BYTES", hidden = true,
      description = "Largest commit, in bytes of input (overrides --max-mb-per-commit; tests).")
  Long maxBytesPerCommit;

  @Option(names = "--fanout", description = "Run the batch on local child JVMs (SPINDRIFT_FANOUT=always, "
      + "SPINDRIFT_FANOUT_INVOKER=local).")
  boolean fanOut;

  @Option(names = "--json", description = "Print the summary as one JSON object.")
  boolean json;

  BatchCommand(CliEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    SourceKind sourceKind = sourceKind();
    long split = splitBytes != null ? splitBytes : splitMb * 1024 * 1024;
    if (split < 1) {
      throw new BadArgument("--split-mb: must be at least 1, not " + splitMb);
    }
    long perCommit = maxBytesPerCommit != null ? maxBytesPerCommit : maxMbPerCommit * 1024 * 1024;
    if (perCommit < 1) {
      throw new BadArgument("--max-mb-per-commit: must be at least 1, not " + maxMbPerCommit);
    }
    SpindriftConfig config = config();
    S3BatchRun.Outcome outcome;
    try (S3Client s3 = AwsClients.s3(config); SpindriftRuntime runtime = SpindriftRuntime.create(config)) {
      try {
        outcome = S3BatchRun.run(runtime, s3, input, sourceKind, split, perCommit);
      } catch (IllegalArgumentException e) {
        throw new BadArgument("--input: " + e.getMessage(), e);
      }
    }
    print(config, outcome);
    return 0;
  }

  private SourceKind sourceKind() {
    try {
      return SourceKind.valueOf(kind.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadArgument("--as: kinesis or kafka, not " + kind);
    }
  }

  private SpindriftConfig config() {
    try {
      // the input is its own archive: SPINDRIFT_ARCHIVE keeps stream records, which a batch run has none of
      SpindriftConfig config = env.config(app).with(Map.of(Setting.ARCHIVE.key(), "false"));
      if (!fanOut) {
        return config;
      }
      Map<String, String> fanOutSettings = new HashMap<>();
      fanOutSettings.put(Setting.FANOUT.key(), "always");
      fanOutSettings.put(Setting.FANOUT_INVOKER.key(), "local");
      return config.with(fanOutSettings);
    } catch (ConfigException e) {
      throw new BadArgument((app != null && e.getMessage().contains(Setting.APP.key()) ? "--app: " : "")
          + e.getMessage(), e);
    }
  }

  private void print(SpindriftConfig config, S3BatchRun.Outcome outcome) {
    if (json) {
      ObjectNode node = JSON.createObjectNode();
      node.put("app", config.app());
      node.put("input", input);
      node.put("lane", outcome.lane());
      node.put("objects", outcome.objects());
      node.put("splits", outcome.splits());
      node.put("chunks", outcome.commits().size());
      node.put("committed", outcome.committed());
      node.put("records", outcome.records());
      node.put("duplicates", outcome.duplicates());
      node.put("output", outcome.outputRows());
      node.put("rejected", outcome.rejected());
      node.put("seq", outcome.seq());
      env.out().println(node);
      return;
    }
    env.out().printf("batch %s into app %s: %d objects, %d splits in %d chunks (%d committed now), %d rows,"
            + " %d rejected; %s%n", input, config.app(), outcome.objects(), outcome.splits(),
        outcome.commits().size(), outcome.committed(), outcome.outputRows(), outcome.rejected(),
        outcome.seq() == 0 ? "nothing new to commit" : "last commit seq " + outcome.seq() + " on lane "
            + outcome.lane());
  }
}
