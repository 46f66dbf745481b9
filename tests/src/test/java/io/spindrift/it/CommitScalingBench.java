package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.DynamoDbPublishClaim;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.KinesisRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.protocol.CommitProtocol;
import io.spindrift.protocol.MicroBatch;
import io.spindrift.runtime.AwsClients;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.state.KeyBytes;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDelta;
import io.spindrift.state.StateTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The commit path alone, as lanes are added (issue 15; a measurement, not a test): N lanes (1, 4, 16, 64), one
 * container thread each, commit one-record batches through the real protocol against DynamoDB Local, with a
 * micro-batch that does no work and a table that publishes nothing, so the commit log is all there is. Stateless
 * with every commit on the app's head (SPINDRIFT_COMMIT_MODE=head, the layout before lane commits) and with lane
 * commits, side by side in one run; stateful on the head and with bucket commits (SPINDRIFT_STATEFUL_COMMIT_MODE=
 * buckets, one state partition per lane), each with every lane's state in one partition (overlapping) and in a
 * partition of its own (disjoint), and with bucket commits and group publishing (one lane applies the backlog's state,
 * the others wait for it). Prints commits/s, conflicts per commit and p50/p95
 * commit latency (the commit and, for lane commits, its sequencing). Run with
 * {@code mvn -pl tests test -Dspindrift.bench=true -Dtest=CommitScalingBench -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dcommits.perLane=20}, {@code -Dcommits.lanes=1,4,16,64}; {@code -Dcommits.variants=stateful} runs only
 * the variants whose name holds that word; {@code -Dcommits.runMs=100} gives each batch's job that long, so that a
 * conflict's re-run costs what a Spark batch would). A second table shows where a batch's time goes (mean ms per
 * batch).
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class CommitScalingBench {
  private static final byte[] PAYLOAD = "{}".getBytes(StandardCharsets.UTF_8);
  /** Milliseconds each batch's job takes (-Dcommits.runMs; 0: none), so a re-run costs what a real one would. */
  private static final long RUN_MS = Long.getLong("commits.runMs", 0);

  private enum Variant {
    STATELESS_HEAD("stateless, head commits (before)"),
    STATELESS_LANES("stateless, lane commits (after)"),
    STATEFUL_OVERLAPPING("stateful, overlapping, head"),
    STATEFUL_DISJOINT("stateful, disjoint, head"),
    STATEFUL_OVERLAPPING_BUCKETS("stateful, overlapping, buckets"),
    STATEFUL_DISJOINT_BUCKETS("stateful, disjoint, buckets"),
    STATEFUL_OVERLAPPING_BUCKETS_GROUP("stateful, overlapping, buckets+group"),
    STATEFUL_DISJOINT_BUCKETS_GROUP("stateful, disjoint, buckets+group");

    final String label;

    Variant(String label) {
      this.label = label;
    }

    boolean stateful() {
      return this != STATELESS_HEAD && this != STATELESS_LANES;
    }

    boolean disjoint() {
      return this == STATEFUL_DISJOINT || this == STATEFUL_DISJOINT_BUCKETS || this == STATEFUL_DISJOINT_BUCKETS_GROUP;
    }

    boolean buckets() {
      return this == STATEFUL_OVERLAPPING_BUCKETS || this == STATEFUL_DISJOINT_BUCKETS || group();
    }

    /** Stateful group publishing (SPINDRIFT_PUBLISH_GROUP=on): one lane applies the backlog, the others wait. */
    boolean group() {
      return this == STATEFUL_OVERLAPPING_BUCKETS_GROUP || this == STATEFUL_DISJOINT_BUCKETS_GROUP;
    }
  }

  /** The protocol's timings shown per batch (mean ms): where a batch's time goes beside the commit. */
  private static final List<String> STEPS = List.of("read_buckets", "read", "spark_total", "commit", "sequence",
      "publish");

  private record Figures(Variant variant, int lanes, long commits, double seconds, long conflicts, long p50,
      long p95, Map<String, Double> meanMs) {
    String line() {
      return String.format(Locale.ROOT, "%-34s %5d %8d %10.1f %12.2f %8d %8d", variant.label, lanes, commits,
          commits / seconds, conflicts / (double) commits, p50, p95);
    }

    String steps() {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-34s %5d", variant.label, lanes));
      STEPS.forEach(step -> line.append(String.format(Locale.ROOT, " %12.1f", meanMs.getOrDefault(step, 0.0))));
      return line.toString();
    }
  }

  @Test
  void commitsPerSecondAndConflictsAsLanesGrow() throws Exception {
    int perLane = Integer.getInteger("commits.perLane", 20);
    List<Integer> laneCounts = new ArrayList<>();
    for (String n : System.getProperty("commits.lanes", "1,4,16,64").split(",")) {
      laneCounts.add(Integer.parseInt(n.trim()));
    }
    SpindriftConfig config = LocalPipeline.config(TestPipeline.stack(), Map.of("SPINDRIFT_APP", "commitbench"));
    DynamoDbClient dynamo = AwsClients.dynamoDb(config);
    new DynamoDbCommitLog(dynamo, config.get(Setting.COMMIT_TABLE)).ensureTable();
    new StateTable(dynamo, config.get(Setting.STATE_TABLE), "commitbench").ensureTable();

    List<Figures> figures = new ArrayList<>();
    for (int lanes : laneCounts) {
      for (Variant variant : Variant.values()) {
        if (!variant.name().toLowerCase(Locale.ROOT).contains(System.getProperty("commits.variants", "").trim())) {
          continue;
        }
        // fewer batches per lane when many lanes share two cores: the run stays minutes long
        int batches = Math.max(5, perLane * 4 / Math.max(4, lanes));
        figures.add(run(dynamo, config, variant, lanes, batches));
        System.out.println(figures.get(figures.size() - 1).line());
      }
    }

    StringBuilder report = new StringBuilder();
    report.append(String.format(Locale.ROOT, "%-34s %5s %8s %10s %12s %8s %8s%n", "variant", "lanes", "commits",
        "commits/s", "conflicts/c", "p50 ms", "p95 ms"));
    figures.forEach(f -> report.append(f.line()).append('\n'));
    report.append(String.format(Locale.ROOT, "%nmean ms per batch%n%-34s %5s", "variant", "lanes"));
    STEPS.forEach(step -> report.append(String.format(Locale.ROOT, " %12s", step)));
    report.append('\n');
    figures.forEach(f -> report.append(f.steps()).append('\n'));
    report.append('\n');
    for (int lanes : System.getProperty("commits.variants", "").isBlank() ? laneCounts : List.<Integer>of()) {
      Figures head = find(figures, Variant.STATELESS_HEAD, lanes);
      Figures lane = find(figures, Variant.STATELESS_LANES, lanes);
      report.append(String.format(Locale.ROOT, "lanes %d: lane commits / head commits, commits/s %.2fx, conflicts"
          + " per commit %.2f -> %.2f%n", lanes, (lane.commits() / lane.seconds()) / (head.commits() / head.seconds()),
          head.conflicts() / (double) head.commits(), lane.conflicts() / (double) lane.commits()));
      for (Variant[] pair : new Variant[][] {{Variant.STATEFUL_DISJOINT, Variant.STATEFUL_DISJOINT_BUCKETS},
          {Variant.STATEFUL_OVERLAPPING, Variant.STATEFUL_OVERLAPPING_BUCKETS},
          {Variant.STATEFUL_DISJOINT_BUCKETS, Variant.STATEFUL_DISJOINT_BUCKETS_GROUP},
          {Variant.STATEFUL_OVERLAPPING_BUCKETS, Variant.STATEFUL_OVERLAPPING_BUCKETS_GROUP}}) {
        Figures before = find(figures, pair[0], lanes);
        Figures after = find(figures, pair[1], lanes);
        report.append(String.format(Locale.ROOT, "lanes %d: %s / %s, commits/s %.2fx, conflicts per commit %.2f"
            + " -> %.2f%n", lanes, after.variant().label, before.variant().label,
            (after.commits() / after.seconds()) / (before.commits() / before.seconds()),
            before.conflicts() / (double) before.commits(), after.conflicts() / (double) after.commits()));
      }
    }
    System.out.println(report);
    Path out = Path.of("target", "commit-scaling.txt");
    Files.writeString(out, report.toString());
    System.out.println("written to " + out.toAbsolutePath());
    assertThat(figures).allSatisfy(f -> assertThat(f.commits()).isPositive());
  }

  private static Figures find(List<Figures> figures, Variant variant, int lanes) {
    return figures.stream().filter(f -> f.variant() == variant && f.lanes() == lanes).findFirst().orElseThrow();
  }

  private static Figures run(DynamoDbClient dynamo, SpindriftConfig config, Variant variant, int lanes,
      int batchesPerLane) throws Exception {
    String app = TestPipeline.uniqueApp("cb" + variant.ordinal() + "n" + lanes);
    String commitTable = config.get(Setting.COMMIT_TABLE);
    String stateTable = config.get(Setting.STATE_TABLE);
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    CountDownLatch start = new CountDownLatch(1);
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    Map<String, Long> stepTotals = new ConcurrentHashMap<>();
    List<Future<Long>> futures = new ArrayList<>();
    NoTable table = new NoTable();
    for (int lane = 0; lane < lanes; lane++) {
      int partition = variant.disjoint() ? lane : 0;
      String shard = String.format("shardId-%012d", lane);
      futures.add(pool.submit(() -> {
        CommitProtocol.Builder builder = CommitProtocol.builder(app, new DynamoDbCommitLog(dynamo, commitTable))
            .sinks(table, table).maxAttempts(1_000).laneCommits(variant == Variant.STATELESS_LANES)
            .microBatch(new NoWork(variant.stateful(), partition));
        if (variant.buckets()) {
          // one state partition per lane (folded onto CommitLog.MAX_BUCKETS items beyond that)
          builder.bucketCommits(Math.max(lanes, 1)).checkpointMerge((a, b) -> b);
        }
        if (variant.stateful()) {
          builder.state(new StateTable(dynamo, stateTable, app));
        }
        if (variant.group()) {
          builder.groupPublish(new DynamoDbPublishClaim(dynamo, commitTable), 10_000, 100);
        }
        long conflicts = 0;
        try (CommitProtocol protocol = builder.build()) {
          start.await();
          for (int b = 1; b <= batchesPerLane; b++) {
            BatchOutcome outcome = protocol.process(new Batch(SourceKind.KINESIS, List.of(
                new KinesisRecord("bench", shard, "k" + b, Integer.toString(b), 0L, PAYLOAD))));
            conflicts += outcome.conflicts();
            Map<String, Long> timings = outcome.timingsMs();
            latencies.add(timings.getOrDefault("commit", 0L) + timings.getOrDefault("sequence", 0L));
            STEPS.forEach(step -> stepTotals.merge(step, timings.getOrDefault(step, 0L), Long::sum));
          }
        }
        return conflicts;
      }));
    }
    long begin = System.nanoTime();
    start.countDown();
    long conflicts = 0;
    for (Future<Long> future : futures) {
      conflicts += future.get(30, TimeUnit.MINUTES);
    }
    double seconds = (System.nanoTime() - begin) / 1e9;
    pool.shutdown();
    LogSnapshot head = new DynamoDbCommitLog(dynamo, commitTable).read(app, List.of());
    long commits = (long) lanes * batchesPerLane;
    assertThat(head.headSeq()).as(variant + " at " + lanes + " lanes: every batch committed once").isEqualTo(commits);
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    Map<String, Double> meanMs = new java.util.HashMap<>();
    stepTotals.forEach((step, total) -> meanMs.put(step, total / (double) commits));
    return new Figures(variant, lanes, commits, seconds, conflicts, percentile(sorted, 0.50),
        percentile(sorted, 0.95), meanMs);
  }

  private static long percentile(List<Long> sorted, double p) {
    return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p * sorted.size())));
  }

  /** A job that does nothing: one staged row per batch by name, and for a stateful job one state row. */
  private static final class NoWork implements MicroBatch {
    private final boolean stateful;
    private final StateBucket bucket;
    private long runs;

    NoWork(boolean stateful, int partition) {
      this.stateful = stateful;
      this.bucket = new StateBucket(0, "default", partition);
    }

    @Override
    public Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
      runs++;
      if (RUN_MS > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(RUN_MS * 1_000_000L); // a job's Spark time, CPU aside
      }
      StateChanges changes = StateChanges.NONE;
      if (stateful) {
        changes = new StateChanges(List.of(new StateDelta(bucket,
            Map.of(KeyBytes.wrap(fresh.records().get(0).position().getBytes(StandardCharsets.UTF_8)), PAYLOAD),
            Set.of())), Set.of(bucket));
      }
      return new Result(new StagedOutput("noop/" + txnId, fresh.size()), StagedOutput.EMPTY, changes,
          stateful ? "{}" : null, runs);
    }

    @Override
    public boolean isStateful() {
      return stateful;
    }

    @Override
    public void close() {}
  }

  /** A table that holds nothing: every publish is instant, so the commit path is what is measured. */
  private static final class NoTable implements Sink {
    private final Set<Long> published = ConcurrentHashMap.newKeySet();

    @Override
    public StagedOutput stage(String txnId, StageRows rows) {
      throw new IllegalStateException("the benchmark's micro-batch stages nothing");
    }

    @Override
    public List<Long> publish(List<PendingPublish> pending) {
      List<Long> now = new ArrayList<>();
      for (PendingPublish stage : pending) {
        if (published.add(stage.tag().seq())) {
          now.add(stage.tag().seq());
        }
      }
      return now;
    }

    @Override
    public boolean isPublished(String app, long seq) {
      return published.contains(seq);
    }
  }
}
