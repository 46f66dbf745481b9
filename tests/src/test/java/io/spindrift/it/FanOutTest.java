package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.apache.spark.sql.functions.col;

import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.config.Setting;
import io.spindrift.event.Batch;
import io.spindrift.event.KinesisRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.fanout.ChildInvoker;
import io.spindrift.fanout.ChildTask;
import io.spindrift.fanout.FanOutMicroBatch;
import io.spindrift.fanout.InProcessInvoker;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StagedOutput;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Fan-out (DESIGN §8) against the local stack, children on threads of this JVM (each its own runtime: its own
 * caches, queries and clients): the same batches give the same table and the same state as single invocations, the
 * parent commits once per batch, and the exchange makes exactly the S3 requests its formula says.
 */
class FanOutTest {
  private static final long BASE_MS = 1_795_500_000_000L;
  private static final String SHARD = "shardId-000000000000";

  /** {@code count} events from {@code first}, 250 ms of event time apart, over five pages; every 97th malformed. */
  static List<SourceRecord> events(String stream, long first, int count, boolean malformed) {
    List<SourceRecord> records = new ArrayList<>();
    for (long i = first; i < first + count; i++) {
      String json = "{\"event_id\":\"e-" + i + "\",\"user_id\":\"u" + (i % 37) + "\",\"action\":\"View\","
          + "\"page\":\"/p" + (i % 5) + "\",\"amount\":" + (i % 100) + ".5,\"ts\":\""
          + Instant.ofEpochMilli(BASE_MS + i * 250) + "\"}";
      if (malformed && i % 97 == 0) {
        json = json.substring(0, json.length() / 2);
      }
      records.add(new KinesisRecord(stream, SHARD, "pk-" + (i % 7),
          new BigInteger("49590338271490256608559692538361571095921575989136588898").add(BigInteger.valueOf(i))
              .toString(), BASE_MS, json.getBytes(StandardCharsets.UTF_8)));
    }
    return records;
  }

  private static Map<String, String> fanOut(int recordsPerChild) {
    Map<String, String> settings = new HashMap<>();
    settings.put(Setting.FANOUT.key(), "always");
    settings.put(Setting.FANOUT_INVOKER.key(), "in-process");
    settings.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), Integer.toString(recordsPerChild));
    return settings;
  }

  private static SpindriftRuntime runtime(String app, String job, Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>(extra);
    settings.put("SPINDRIFT_JOB", job);
    return TestPipeline.runtime(app, settings);
  }

  /** The table's rows as sorted strings (every column): equal lists mean equal tables, duplicates included. */
  static List<String> table(SpindriftRuntime runtime, String table) {
    return TestPipeline.rows(runtime, "SELECT * FROM " + TestPipeline.qualified(runtime, table)).stream()
        .map(row -> row.toString()).sorted().toList();
  }

  @Test
  void statelessFanOutGivesTheSingleInvocationTableWithOneCommitPerBatch() {
    String single = TestPipeline.uniqueApp("fan_single");
    String fanned = TestPipeline.uniqueApp("fan_map");
    try (SpindriftRuntime one = runtime(single, Clickstream.class.getName(), Map.of());
        SpindriftRuntime many = runtime(fanned, Clickstream.class.getName(), fanOut(150))) {
      long first = 0;
      for (int batch = 0; batch < 3; batch++) {
        List<SourceRecord> records = events("clicks", first, 400, true);
        first += 400;
        one.process(new Batch(SourceKind.KINESIS, records));
        AwsRequestLog.start();
        BatchOutcome outcome = many.process(new Batch(SourceKind.KINESIS, records));
        List<AwsRequestLog.Request> requests = AwsRequestLog.stop();
        FanOutMicroBatch.FanOutReport report = many.lastFanOut(SourceKind.KINESIS);
        assertThat(report.plan().splits()).isEqualTo(3);
        assertThat(report.records()).isEqualTo(400);
        assertThat(outcome.records()).isEqualTo(400);
        assertThat(outcome.outputRows() + outcome.rejected()).isEqualTo(400);
        // one-level map exchange: PUT input + PUT plan + M result PUTs; GET plan (absent) + M ranged input GETs
        int m = report.plan().splits();
        assertThat(count(requests, "PutObject")).isEqualTo(2 + m);
        assertThat(count(requests, "GetObject")).isEqualTo(1 + m);
      }
      assertThat(table(many, "it." + fanned)).hasSize(1200 - 13).isEqualTo(table(one, "it." + single));
      assertThat(TestPipeline.count(many, "it." + fanned + "_rejects")).isEqualTo(13);
      assertThat(TestPipeline.count(one, "it." + single + "_rejects")).isEqualTo(13);
      // the parent committed once per batch, each commit's stage a composite of the children's parts
      DynamoDbCommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(many.config()),
          many.config().get(Setting.COMMIT_TABLE));
      List<CommitRecord> commits = log.commits(fanned, 0, 3);
      assertThat(commits).hasSize(3);
      for (CommitRecord commit : commits) {
        assertThat(StagedOutput.parts(commit.stages().table())).hasSize(3);
        assertThat(commit.counts().records()).isEqualTo(400);
      }
      assertThat(TestPipeline.snapshots(many, "it." + fanned)).hasSize(3);
    }
  }

  /**
   * A stateless job upserting on a key that occurs in every split: each child stages its part, the parts reach the
   * table in one commit in split order, and a later part's row of a key wins, so the table is the one a single
   * invocation leaves (each user's last event).
   */
  @Test
  void aStatelessUpsertWhoseKeysSpanSplitsFansOutToTheSingleInvocationTable() {
    String single = TestPipeline.uniqueApp("fan_ups_single");
    String fanned = TestPipeline.uniqueApp("fan_ups_map");
    Map<String, String> upsert = Map.of("SPINDRIFT_SINK_MODE", "upsert", "SPINDRIFT_SINK_KEYS", "user_id");
    Map<String, String> settings = new HashMap<>(fanOut(100));
    settings.putAll(upsert);
    try (SpindriftRuntime one = runtime(single, Clickstream.class.getName(), upsert);
        SpindriftRuntime many = runtime(fanned, Clickstream.class.getName(), settings)) {
      long first = 0;
      for (int batch = 0; batch < 2; batch++) {
        List<SourceRecord> records = events("clicks", first, 300, false);
        first += 300;
        one.process(new Batch(SourceKind.KINESIS, records));
        many.process(new Batch(SourceKind.KINESIS, records));
        assertThat(many.lastFanOut(SourceKind.KINESIS).plan().splits()).as("fanned out").isEqualTo(3);
      }
      assertThat(table(many, "it." + fanned)).hasSize(37).isEqualTo(table(one, "it." + single));
      assertThat(TestPipeline.rows(many, "SELECT event_id FROM " + TestPipeline.qualified(many, "it." + fanned)
          + " WHERE user_id = 'u0'").get(0).getString(0)).as("the last event of u0").isEqualTo("e-592");
    }
  }

  /**
   * Stateful exchange, M partition maps, R reducers and G combiners (0: one level). One level: PUT input + plan + M
   * map objects + M map results + R reduce results; GET plan (absent) + M ranged input reads + one ranged read per
   * (map, reducer) with records for it: at most M x R. Two levels add PUT G combiner objects + G results, and the
   * ranged reads become one GET per non-empty map object (at most M) + one per (combiner, reducer): at most G x R.
   */
  private static void assertStatefulRequests(List<AwsRequestLog.Request> requests,
      FanOutMicroBatch.FanOutReport report, boolean everyRangeRead, int combiners) {
    int m = report.plan().splits();
    int r = report.plan().reducers();
    int g = report.plan().combiners();
    assertThat(g).isEqualTo(combiners);
    assertThat(count(requests, "PutObject")).isEqualTo(2 + 2 * m + 2 * g + r);
    assertThat(count(requests, "GetObject")).isEqualTo(1 + m + report.rangedReads());
    int most = g == 0 ? m * r : m + g * r;
    assertThat(report.rangedReads()).isBetween(1, most);
    if (everyRangeRead) {
      assertThat(report.rangedReads()).isEqualTo(most);
    }
  }

  /**
   * A tree forced at 2 children a node over 5 map children (3 launchers, depth 3), whose first launcher dies at its
   * first invoke: its 3 tasks fail and the parent invokes them again directly; the table is the single invocation's
   * and the tree adds invokes, not S3 requests.
   */
  @Test
  void aTreeOfInvokesStartsTheChildrenAndGivesTheSingleInvocationTable() {
    String single = TestPipeline.uniqueApp("tree_single");
    String fanned = TestPipeline.uniqueApp("tree_map");
    Map<String, String> settings = new HashMap<>(fanOut(100));
    settings.put("SPINDRIFT_APP", fanned);
    settings.put("SPINDRIFT_JOB", Clickstream.class.getName());
    settings.put("SPINDRIFT_SINK_TABLE", "it." + fanned);
    // forced at this small size: 5 map children started by a tree of 3 launchers, no node with more than 2 children
    settings.put(Setting.FANOUT_TREE_CHILDREN.key(), "2");
    // no straggler re-issue (the retried tasks queue for the invoker's 2 threads): the test counts invocations
    settings.put(Setting.FANOUT_STRAGGLER_FACTOR.key(), "1000");
    Map<String, String> childSettings = new HashMap<>(settings);
    childSettings.put(Setting.FANOUT.key(), "off");
    SpindriftRuntime child = SpindriftRuntime.create(LocalPipeline.config(TestPipeline.stack(), childSettings));
    java.util.concurrent.atomic.AtomicInteger launchersStarted = new java.util.concurrent.atomic.AtomicInteger();
    InProcessInvoker threads = new InProcessInvoker(child::runChild, 2);
    ChildInvoker firstLauncherDies = new ChildInvoker() {
      @Override
      public java.util.concurrent.CompletableFuture<String> invoke(ChildTask task) {
        if (task.role() == ChildTask.Role.LAUNCH && launchersStarted.getAndIncrement() == 0) {
          return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("launcher died"));
        }
        return threads.invoke(task);
      }

      @Override
      public int concurrency() {
        return threads.concurrency();
      }
    };
    try (SpindriftRuntime one = runtime(single, Clickstream.class.getName(), Map.of());
        SpindriftRuntime many = SpindriftRuntime.create(LocalPipeline.config(TestPipeline.stack(), settings),
            firstLauncherDies)) {
      List<SourceRecord> records = events("clicks", 0, 500, true);
      one.process(new Batch(SourceKind.KINESIS, records));
      AwsRequestLog.start();
      BatchOutcome outcome = many.process(new Batch(SourceKind.KINESIS, records));
      List<AwsRequestLog.Request> requests = AwsRequestLog.stop();
      FanOutMicroBatch.FanOutReport report = many.lastFanOut(SourceKind.KINESIS);
      assertThat(report.plan().splits()).isEqualTo(5);
      assertThat(report.launchers()).isEqualTo(3);
      assertThat(launchersStarted.get()).as("the parent's launchers").isEqualTo(2);
      // 5 through the tree, then the dead launcher's 3 tasks again, directly
      assertThat(report.invocations()).isEqualTo(8);
      assertThat(outcome.records()).isEqualTo(500);
      // the tree adds invokes, not S3 requests: the stateless formula holds
      assertThat(count(requests, "PutObject")).isEqualTo(2 + 5);
      assertThat(count(requests, "GetObject")).isEqualTo(1 + 5);
      assertThat(table(many, "it." + fanned)).isEqualTo(table(one, "it." + single));
    } finally {
      threads.close();
      child.close();
    }
  }

  private static long count(List<AwsRequestLog.Request> requests, String operation) {
    return requests.stream().filter(r -> r.service().equals("S3") && r.operation().equals(operation)
        && r.target().contains("/shuffle/")).count();
  }

  @Test
  void windowedCountWithWatermarkFansOutToReducersAndMatchesSingleInvocations() {
    equalStatefulTables(PageViewCounts.class.getName(), "pv");
  }

  @Test
  void dropDuplicatesFansOutToReducersAndMatchesSingleInvocations() {
    // every split's distinct event ids reach every reducer: each reducer reads one range of each map object
    equalStatefulTables(FirstSeen.class.getName(), "dedup", true);
  }

  @Test
  void flatMapGroupsWithStateWithEventTimeTimeoutFansOutAndMatchesSingleInvocations() {
    equalStatefulTables(StatefulOracleTest.QuietMinutes.class.getName(), "quiet");
  }

  @Test
  void flatMapGroupsWithStateFansOutToReducersAndMatchesSingleInvocations() {
    equalStatefulTables(StateSpillTest.PageTrails.class.getName(), "trails");
  }

  /**
   * Six batches (the fourth repeats records of the second: duplicates) through a single-invocation app and a
   * fan-out app of the same stateful job: equal tables and equal state rows, one commit per batch.
   */
  private void equalStatefulTables(String job, String prefix) {
    equalStatefulTables(job, prefix, false, Map.of());
  }

  private void equalStatefulTables(String job, String prefix, boolean everyRangeRead) {
    equalStatefulTables(job, prefix, everyRangeRead, Map.of());
  }

  @Test
  void aTwoLevelExchangeAboveItsThresholdMatchesSingleInvocationsWithItsRequestFormula() {
    // forced at this small size: 2-3 partition maps, 2 combiners, 2 reducers
    equalStatefulTables(FirstSeen.class.getName(), "twolevel", true,
        Map.of(Setting.FANOUT_TWO_LEVEL_CHILDREN.key(), "2"));
  }

  private void equalStatefulTables(String job, String prefix, boolean everyRangeRead, Map<String, String> extra) {
    String single = TestPipeline.uniqueApp(prefix + "_single");
    String fanned = TestPipeline.uniqueApp(prefix + "_reduce");
    Map<String, String> settings = new HashMap<>(fanOut(100));
    settings.putAll(extra);
    try (SpindriftRuntime one = runtime(single, job, Map.of());
        SpindriftRuntime many = runtime(fanned, job, settings)) {
      List<List<SourceRecord>> batches = new ArrayList<>();
      batches.add(events("views", 0, 300, false));
      batches.add(events("views", 300, 300, false));
      batches.add(events("views", 600, 200, false));
      List<SourceRecord> again = new ArrayList<>(events("views", 800, 100, false));
      batches.add(again);
      batches.add(events("views", 900, 300, false));
      batches.add(events("views", 2000, 50, false));
      int fannedOut = 0;
      for (List<SourceRecord> records : batches) {
        BatchOutcome a = one.process(new Batch(SourceKind.KINESIS, records));
        AwsRequestLog.start();
        BatchOutcome b = many.process(new Batch(SourceKind.KINESIS, records));
        List<AwsRequestLog.Request> requests = AwsRequestLog.stop();
        assertThat(b.outputRows()).as("rows of batch at seq %d", b.seq()).isEqualTo(a.outputRows());
        FanOutMicroBatch.FanOutReport report = many.lastFanOut(SourceKind.KINESIS);
        if (report != null && report.records() == records.size()) {
          fannedOut++;
          assertThat(report.plan().stateful()).isTrue();
          assertThat(report.plan().reducers()).isGreaterThan(1);
          assertStatefulRequests(requests, report, everyRangeRead, extra.isEmpty() ? 0 : 2);
          // each record makes one row at the stateful operator: the maps route it to that row's reducer alone
          assertThat(report.reducedRecords()).isEqualTo(records.size());
        }
      }
      assertThat(fannedOut).isGreaterThan(0);
      List<String> expected = table(one, "it." + single);
      assertThat(expected).isNotEmpty();
      assertThat(table(many, "it." + fanned)).isEqualTo(expected);
      List<String> state = StateRows.of(one, single);
      assertThat(StateRows.of(many, fanned)).isEqualTo(state);
      // what `spindrift status` reports as the app's state size
      io.spindrift.replay.StateSize size = io.spindrift.replay.StateSize.of(AwsClients.dynamoDb(many.config()),
          many.config().get(Setting.STATE_TABLE), fanned);
      assertThat(size.rows()).isEqualTo(state.size());
      assertThat(size.buckets()).isBetween(1L, 4L);
      assertThat(size.bytes()).isPositive();
    }
  }

  /**
   * A fanned-out stateful batch commits on state buckets (SPINDRIFT_STATEFUL_COMMIT_MODE=buckets; what the default
   * auto chooses for a new app): its commits carry the bucket versions the reducers' deltas were conditioned on, and
   * the table and the state equal those of single invocations committing on the head.
   */
  @Test
  void aStatefulJobOnBucketCommitsFansOutAndMatchesSingleInvocationsOnTheHead() {
    String single = TestPipeline.uniqueApp("bk_single");
    String fanned = TestPipeline.uniqueApp("bk_reduce");
    Map<String, String> settings = new HashMap<>(fanOut(100));
    settings.put(Setting.STATEFUL_COMMIT_MODE.key(), "buckets");
    try (SpindriftRuntime one = runtime(single, PageViewCounts.class.getName(),
            Map.of(Setting.STATEFUL_COMMIT_MODE.key(), "head"));
        SpindriftRuntime many = runtime(fanned, PageViewCounts.class.getName(), settings)) {
      int fannedOut = 0;
      long rows = 0;
      for (List<SourceRecord> records : List.of(events("views", 0, 300, false), events("views", 300, 250, false),
          events("views", 300, 250, false), events("views", 550, 300, false))) {
        BatchOutcome a = one.process(new Batch(SourceKind.KINESIS, records));
        BatchOutcome b = many.process(new Batch(SourceKind.KINESIS, records));
        assertThat(b.outputRows()).as("rows of batch at seq %d", b.seq()).isEqualTo(a.outputRows());
        rows += b.outputRows();
        FanOutMicroBatch.FanOutReport report = many.lastFanOut(SourceKind.KINESIS);
        if (report != null && report.records() == records.size() && b.duplicates() == 0) {
          fannedOut++;
        }
      }
      assertThat(fannedOut).as("batches fanned out to reducers").isEqualTo(3);
      assertThat(rows).isPositive();
      DynamoDbCommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(many.config()),
          many.config().get(Setting.COMMIT_TABLE));
      assertThat(log.read(fanned, List.of()).bucketCommits()).as("the fanned-out app commits on buckets").isTrue();
      assertThat(log.commits(fanned, 0, 3)).hasSize(3).allSatisfy(c -> assertThat(c.buckets()).isNotEmpty());
      assertThat(log.read(single, List.of()).bucketCommits()).as("the single app on the head").isFalse();
      assertThat(table(many, "it." + fanned)).isNotEmpty().isEqualTo(table(one, "it." + single));
      assertThat(StateRows.of(many, fanned)).isNotEmpty().isEqualTo(StateRows.of(one, single));
    }
  }

  /**
   * The JVM has one SparkSession, built with the shuffle partitions of whichever runtime came first (the tests'
   * LocalPipeline: 2). A runtime configured with 5 keeps its state in 5 partitions all the same: its sessions carry
   * its own setting, so its state buckets (and its bucket commits' count) are its own.
   */
  @Test
  void aRuntimeWithOtherShufflePartitionsThanTheJvmsSessionKeepsStateInItsOwnPartitions() {
    String app = TestPipeline.uniqueApp("parts5");
    try (SpindriftRuntime first = TestPipeline.runtime(TestPipeline.uniqueApp("parts2"));
        SpindriftRuntime five = runtime(app, FirstSeen.class.getName(),
            Map.of(Setting.SHUFFLE_PARTITIONS.key(), "5"))) {
      assertThat(io.spindrift.runtime.RuntimeHooks.newSession(first).conf().get("spark.sql.shuffle.partitions"))
          .isEqualTo("2");
      assertThat(io.spindrift.runtime.RuntimeHooks.newSession(five).conf().get("spark.sql.shuffle.partitions"))
          .isEqualTo("5");
      BatchOutcome outcome = five.process(new Batch(SourceKind.KINESIS, events("views", 0, 200, false)));
      assertThat(outcome.outputRows()).isEqualTo(200);
      io.spindrift.replay.StateSize size = io.spindrift.replay.StateSize.of(AwsClients.dynamoDb(five.config()),
          five.config().get(Setting.STATE_TABLE), app);
      assertThat(size.rows()).isEqualTo(200);
      assertThat(size.buckets()).as("200 distinct keys over the app's 5 state partitions").isBetween(3L, 5L);
    }
  }

  /**
   * A job whose state a reduce child cannot own by partition (two stateful operators keyed differently) does not
   * fan out above the thresholds: every batch runs as a single invocation (the reason is logged), with the table
   * and state single invocations give.
   */
  @Test
  void aJobWithTwoStatefulOperatorsFallsBackToSingleInvocationsWithTheSameTableAndState() {
    String single = TestPipeline.uniqueApp("two_single");
    String fanned = TestPipeline.uniqueApp("two_fallback");
    try (SpindriftRuntime one = runtime(single, FirstPerUser.class.getName(), Map.of());
        SpindriftRuntime many = runtime(fanned, FirstPerUser.class.getName(), fanOut(100))) {
      long rows = 0;
      for (long first : new long[] {0, 300, 150, 600}) {
        List<SourceRecord> records = events("views", first, 300, false);
        BatchOutcome a = one.process(new Batch(SourceKind.KINESIS, records));
        BatchOutcome b = many.process(new Batch(SourceKind.KINESIS, records));
        assertThat(b.outputRows()).isEqualTo(a.outputRows());
        assertThat(many.lastFanOut(SourceKind.KINESIS)).as("nothing fanned out").isNull();
        rows += b.outputRows();
      }
      List<String> expected = table(one, "it." + single);
      assertThat(expected).hasSize(37).hasSize((int) rows);
      assertThat(table(many, "it." + fanned)).isEqualTo(expected);
      assertThat(StateRows.of(many, fanned)).isEqualTo(StateRows.of(one, single));
    }
  }

  @Test
  void windowedCountOnDeltaFansOutAndMatchesSingleInvocations() {
    String single = TestPipeline.uniqueApp("pvd_single");
    String fanned = TestPipeline.uniqueApp("pvd_reduce");
    Map<String, String> delta = Map.of(Setting.SINK_FORMAT.key(), "delta");
    Map<String, String> deltaFanOut = new HashMap<>(fanOut(100));
    deltaFanOut.putAll(delta);
    try (SpindriftRuntime one = runtime(single, PageViewCounts.class.getName(), delta);
        SpindriftRuntime many = runtime(fanned, PageViewCounts.class.getName(), deltaFanOut)) {
      long first = 0;
      for (int batch = 0; batch < 4; batch++) {
        List<SourceRecord> records = events("views", first, 300, false);
        first += 300;
        one.process(new Batch(SourceKind.KINESIS, records));
        many.process(new Batch(SourceKind.KINESIS, records));
        assertThat(many.lastFanOut(SourceKind.KINESIS).records()).isEqualTo(300);
      }
      List<String> expected = deltaTable(one, single);
      assertThat(expected).isNotEmpty();
      assertThat(deltaTable(many, fanned)).isEqualTo(expected);
      assertThat(StateRows.of(many, fanned)).isEqualTo(StateRows.of(one, single));
    }
  }

  private static List<String> deltaTable(SpindriftRuntime runtime, String app) {
    return TestPipeline.s3aReader(runtime).read().format("delta")
        .load("s3a://" + runtime.config().bucket() + "/warehouse/it/" + app).collectAsList().stream()
        .map(Row::toString).sorted().toList();
  }

  /** The first record of each event id (state: every id seen), written once. */
  /** Each user's first event: deduplicated by event, then by user (two stateful operators). */
  public static final class FirstPerUser implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .dropDuplicates("event_id")
          .dropDuplicates("user_id")
          .select("user_id", "event_id", "page", "ts");
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.first_per_user");
    }
  }

  public static final class FirstSeen implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .dropDuplicates("event_id")
          .select("event_id", "page", "user_id", "ts");
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.first_seen");
    }
  }
}
