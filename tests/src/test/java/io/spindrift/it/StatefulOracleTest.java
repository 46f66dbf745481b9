package io.spindrift.it;

import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.AwsClients;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.state.StateTable;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import org.apache.spark.sql.streaming.GroupState;
import org.apache.spark.sql.streaming.GroupStateTimeout;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.junit.jupiter.api.Test;
import scala.Tuple2;
import scala.Tuple3;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * A stateful job run invocation by invocation through Spindrift (state in DynamoDB, watermark seeded from the commit
 * log, a fresh container half-way) gives the same table as the same job run as one plain Spark Structured
 * Streaming query (default state store, local checkpoint) over the same batches.
 */
class StatefulOracleTest {
  private static final long BASE_MS = 1_795_400_000_000L;
  private static final String[] PAGES = {"/", "/cart", "/search"};

  /** Batches of (seconds after BASE, page) events; the third holds late events behind the watermark. */
  private static List<List<long[]>> batches() {
    List<List<long[]>> batches = new ArrayList<>();
    batches.add(events(0, 15, 0));
    batches.add(events(12, 35, 1));
    batches.add(List.of(new long[] {3, 0}, new long[] {4, 1}, new long[] {26, 2}, new long[] {31, 0}));
    batches.add(events(40, 70, 2));
    batches.add(events(90, 95, 0));
    batches.add(events(120, 121, 1));
    return batches;
  }

  private static List<long[]> events(long fromSecond, long toSecond, int salt) {
    List<long[]> out = new ArrayList<>();
    for (long second = fromSecond; second <= toSecond; second++) {
      out.add(new long[] {second, (second + salt) % PAGES.length});
      out.add(new long[] {second, (second * 7 + salt) % PAGES.length});
    }
    return out;
  }

  /** The batches above, then two far later (on a page of their own): the first moves the watermark past every
   * earlier event, the second is the batch that evicts (Spark evicts with the watermark the previous batch left). */
  static List<List<long[]>> batchesThenFarLater() {
    List<List<long[]>> batches = batches();
    batches.add(List.<long[]>of(new long[] {1000, LATER}));
    batches.add(List.<long[]>of(new long[] {1001, LATER}));
    return batches;
  }

  /** Page index of the far later events. */
  private static final int LATER = PAGES.length;

  static byte[] json(int id, long[] event) {
    String page = event[1] == LATER ? "/later" : PAGES[(int) event[1]];
    return ("{\"event_id\":\"e" + id + "\",\"user_id\":\"u\",\"page\":\"" + page + "\",\"ts\":\""
        + new Timestamp(BASE_MS + event[0] * 1000).toInstant() + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void windowedCountAcrossInvocationsAndContainersEqualsOneLongRunningQuery() throws Exception {
    assertMatchesOracle(PageViewCounts.class, null);
  }

  @Test
  void windowedCountSurvivesCrashesAfterCommitAndBeforeStaging() throws Exception {
    assertMatchesOracle(PageViewCounts.class, FaultPoint.AFTER_COMMIT);
    assertMatchesOracle(PageViewCounts.class, FaultPoint.BEFORE_STAGE);
  }

  @Test
  void dropDuplicatesWithAWatermarkEqualsOneLongRunningQuery() throws Exception {
    assertMatchesOracle(DistinctViews.class, FaultPoint.MID_PUBLISH);
  }

  @Test
  void dropDuplicatesWithinWatermarkEqualsOneLongRunningQuery() throws Exception {
    assertMatchesOracle(DistinctViewsWithinWatermark.class, null);
  }

  @Test
  void flatMapGroupsWithStateWithEventTimeTimeoutEqualsOneLongRunningQuery() throws Exception {
    Map<String, String> state = assertMatchesOracle(QuietMinutes.class, encode(batchesThenFarLater()), null, -1, 0);
    assertThat(state.values()).as("the far later page's group is still open").anyMatch(v -> !v.startsWith("applied"));
  }

  /**
   * Processing-time timeouts depend on the wall clock, so when a group times out differs between runs; what it
   * emits does not, because every group's events arrive in one batch (its key is the page and the 100 s of event
   * time the batch covers) and a group emits only its total, once, when it times out. Both sides wait past the
   * timeout before the last batch, so every earlier group has timed out by then.
   */
  @Test
  void flatMapGroupsWithStateWithProcessingTimeTimeoutEqualsOneLongRunningQuery() throws Exception {
    List<List<long[]>> batches = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      batches.add(events(100L * i, 100L * i + 10, i));
    }
    batches.add(events(1000, 1001, 0));
    assertMatchesOracle(IdleGroups.class, encode(batches), null, -1, IdleGroups.TIMEOUT_MS + 1500);
  }

  @Test
  void crashesAfterStagingAndMidStateApplyLeaveTheTableAndTheStateExact() throws Exception {
    Map<String, String> clean = assertMatchesOracle(QuietMinutes.class, encode(batchesThenFarLater()), null, -1, 0);
    assertThat(clean).as("state of the open group").isNotEmpty();
    for (FaultPoint crash : List.of(FaultPoint.AFTER_STAGE, FaultPoint.MID_STATE_APPLY)) {
      assertThat(assertMatchesOracle(QuietMinutes.class, encode(batchesThenFarLater()), crash, -1, 0))
          .as("state after a crash at " + crash).isEqualTo(clean);
    }
  }

  /**
   * Views per page and minute of event time, emitted once the group has been quiet for 10 s of event time:
   * {@code flatMapGroupsWithState} with an event-time timeout.
   */
  public static final class QuietMinutes implements io.spindrift.job.StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return views(input, ctx)
          .withWatermark("ts", "10 seconds")
          .select("page", "ts")
          .groupByKey((MapFunction<Row, String>) row ->
              row.getString(0) + "@" + row.getTimestamp(1).getTime() / 60_000 * 60, Encoders.STRING())
          .flatMapGroupsWithState(QuietMinutes::update, OutputMode.Append(),
              Encoders.tuple(Encoders.LONG(), Encoders.LONG()),
              Encoders.tuple(Encoders.STRING(), Encoders.STRING(), Encoders.LONG()),
              GroupStateTimeout.EventTimeTimeout())
          .toDF("window_start", "page", "views");
    }

    /** State: (views, latest event ms). */
    private static Iterator<Tuple3<String, String, Long>> update(String key, Iterator<Row> views,
        GroupState<Tuple2<Long, Long>> state) {
      String page = key.substring(0, key.indexOf('@'));
      String minute = key.substring(key.indexOf('@') + 1);
      if (state.hasTimedOut()) {
        long total = state.get()._1();
        state.remove();
        return List.of(new Tuple3<>(minute, page, total)).iterator();
      }
      long total = state.exists() ? state.get()._1() : 0;
      long latest = state.exists() ? state.get()._2() : 0;
      while (views.hasNext()) {
        total++;
        latest = Math.max(latest, views.next().getTimestamp(1).getTime());
      }
      state.update(new Tuple2<>(total, latest));
      state.setTimeoutTimestamp(Math.max(latest + 10_000, state.getCurrentWatermarkMs() + 1));
      return java.util.Collections.emptyIterator();
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.quiet_minutes");
    }
  }

  /**
   * Views per page and 100 s of event time, emitted when the group has had no views for {@link #TIMEOUT_MS} of
   * processing time: {@code flatMapGroupsWithState} with a processing-time timeout.
   */
  public static final class IdleGroups implements io.spindrift.job.StreamJob {
    static final long TIMEOUT_MS = 1500;

    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return views(input, ctx)
          .select("page", "ts")
          .groupByKey((MapFunction<Row, String>) row ->
              row.getString(0) + "@" + row.getTimestamp(1).getTime() / 100_000 * 100, Encoders.STRING())
          .flatMapGroupsWithState(IdleGroups::update, OutputMode.Append(), Encoders.LONG(),
              Encoders.tuple(Encoders.STRING(), Encoders.STRING(), Encoders.LONG()),
              GroupStateTimeout.ProcessingTimeTimeout())
          .toDF("window_start", "page", "views");
    }

    private static Iterator<Tuple3<String, String, Long>> update(String key, Iterator<Row> views,
        GroupState<Long> state) {
      String page = key.substring(0, key.indexOf('@'));
      String bucket = key.substring(key.indexOf('@') + 1);
      if (state.hasTimedOut()) {
        long total = state.get();
        state.remove();
        return List.of(new Tuple3<>(bucket, page, total)).iterator();
      }
      long total = state.exists() ? state.get() : 0;
      while (views.hasNext()) {
        views.next();
        total++;
      }
      state.update(total);
      state.setTimeoutDuration(TIMEOUT_MS);
      return java.util.Collections.emptyIterator();
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.idle_groups");
    }
  }

  /** Distinct (page, second) views: {@code dropDuplicatesWithinWatermark}. */
  public static final class DistinctViewsWithinWatermark implements io.spindrift.job.StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return asViewRows(views(input, ctx)
          .withWatermark("ts", "10 seconds")
          .dropDuplicatesWithinWatermark("page", "ts"));
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.distinct_within");
    }
  }

  @Test
  void sessionWindowsEqualOneLongRunningQuery() throws Exception {
    assertMatchesOracle(PageSessions.class, null);
  }

  @Test
  void aFreshJvmContinuesTheStatefulJobFromDynamoDbAlone() throws Exception {
    assertMatchesOracle(PageViewCounts.class, null, 2);
  }

  @Test
  void streamStreamInnerJoinEqualsOneLongRunningQuery() throws Exception {
    assertMatchesOracle(SelfJoin.class, null);
  }

  /** Views of "/" joined with views of "/cart" of the same second: a stream-stream inner join with watermarks. */
  public static final class SelfJoin implements io.spindrift.job.StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      Dataset<Row> views = views(input, ctx)
          .select("event_id", "user_id", "page", "ts");
      Dataset<Row> home = views.filter("page = '/'").withWatermark("ts", "10 seconds")
          .select(org.apache.spark.sql.functions.col("event_id").as("home_id"),
              org.apache.spark.sql.functions.col("user_id").as("home_user"),
              org.apache.spark.sql.functions.col("ts").as("home_ts"));
      Dataset<Row> cart = views.filter("page = '/cart'").withWatermark("ts", "10 seconds")
          .select(org.apache.spark.sql.functions.col("event_id").as("cart_id"),
              org.apache.spark.sql.functions.col("user_id").as("cart_user"),
              org.apache.spark.sql.functions.col("ts").as("cart_ts"));
      return home.join(cart, org.apache.spark.sql.functions.expr(
              "home_user = cart_user AND cart_ts >= home_ts AND cart_ts <= home_ts + interval 1 second"))
          .select(org.apache.spark.sql.functions.concat_ws("-", org.apache.spark.sql.functions.col("home_id"),
                  org.apache.spark.sql.functions.col("cart_id")).as("window_start"),
              org.apache.spark.sql.functions.lit("join").as("page"),
              org.apache.spark.sql.functions.lit(1L).as("views"));
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.self_join");
    }
  }

  @Test
  void streamStreamLeftOuterJoinEqualsOneLongRunningQuery() throws Exception {
    assertMatchesOracle(SelfLeftOuterJoin.class, encode(batchesThenFarLater()), null, -1, 0);
  }

  /** {@link SelfJoin} as a left outer join: views of "/" with no "/cart" view within a second are kept too. */
  public static final class SelfLeftOuterJoin implements io.spindrift.job.StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      Dataset<Row> views = views(input, ctx)
          .select("event_id", "user_id", "page", "ts");
      Dataset<Row> home = views.filter("page = '/'").withWatermark("ts", "10 seconds")
          .selectExpr("event_id AS home_id", "user_id AS home_user", "ts AS home_ts");
      Dataset<Row> cart = views.filter("page = '/cart'").withWatermark("ts", "10 seconds")
          .selectExpr("event_id AS cart_id", "user_id AS cart_user", "ts AS cart_ts");
      return home.join(cart, org.apache.spark.sql.functions.expr(
              "home_user = cart_user AND cart_ts >= home_ts AND cart_ts <= home_ts + interval 1 second"), "left_outer")
          .selectExpr("concat_ws('-', home_id, coalesce(cart_id, 'none')) AS window_start", "'join' AS page",
              "1L AS views");
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.self_left_join");
    }
  }

  /** Distinct (page, second) views: {@code dropDuplicates} with a watermark. */
  public static final class DistinctViews implements io.spindrift.job.StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return asViewRows(views(input, ctx)
          .withWatermark("ts", "10 seconds")
          .dropDuplicates("page", "ts"));
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.distinct_views");
    }
  }

  /** Views per page session (5-second gap): session windows. */
  public static final class PageSessions implements io.spindrift.job.StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return views(input, ctx)
          .withWatermark("ts", "10 seconds")
          .groupBy(org.apache.spark.sql.functions.session_window(org.apache.spark.sql.functions.col("ts"), "5 seconds"),
              org.apache.spark.sql.functions.col("page"))
          .count()
          .select(org.apache.spark.sql.functions.col("session_window.start").as("window_start"),
              org.apache.spark.sql.functions.col("page"), org.apache.spark.sql.functions.col("count").as("views"));
    }

    @Override
    public io.spindrift.sink.SinkSpec sink() {
      return io.spindrift.sink.SinkSpec.iceberg("it.page_sessions");
    }
  }

  /** The input's well-formed page views (the jobs above start from them). */
  /** Distinct views as the oracle's table rows: (second, page, 1). */
  private static Dataset<Row> asViewRows(Dataset<Row> distinct) {
    return distinct.select(org.apache.spark.sql.functions.col("ts").cast("string").as("window_start"),
        org.apache.spark.sql.functions.col("page"), org.apache.spark.sql.functions.lit(1L).as("views"));
  }

  private static Dataset<Row> views(Dataset<Row> input, JobContext ctx) {
    return ctx.parseJson(input, io.spindrift.examples.Clickstream.EVENT, "event_id", "ts")
        .filter(org.apache.spark.sql.functions.col(JobContext.REJECT_COLUMN).isNull());
  }

  private static Map<String, String> assertMatchesOracle(Class<? extends io.spindrift.job.StreamJob> job,
      FaultPoint crashOnBatch2) throws Exception {
    return assertMatchesOracle(job, encode(batches()), crashOnBatch2, -1, 0);
  }

  private static Map<String, String> assertMatchesOracle(Class<? extends io.spindrift.job.StreamJob> job,
      FaultPoint crashOnBatch2, int freshJvmBatch) throws Exception {
    return assertMatchesOracle(job, encode(batches()), crashOnBatch2, freshJvmBatch, 0);
  }

  private static List<List<byte[]>> encode(List<List<long[]>> batches) {
    List<List<byte[]>> payloads = new ArrayList<>();
    int id = 0;
    for (List<long[]> batch : batches) {
      List<byte[]> encoded = new ArrayList<>();
      for (long[] event : batch) {
        encoded.add(json(id++, event));
      }
      payloads.add(encoded);
    }
    return payloads;
  }

  /**
   * Runs the batches through Spindrift (batch {@code freshJvmBatch}, if not -1, in a new JVM that knows nothing but
   * its settings; a crash at {@code crashOnBatch2}, if not null, while processing the second batch) and as one plain
   * query, waiting {@code pauseBeforeLastMs} of wall-clock time before the last batch on both sides, and asserts
   * that both produce the same table. Returns the app's durable state (see {@link #durableState}).
   */
  private static Map<String, String> assertMatchesOracle(Class<? extends io.spindrift.job.StreamJob> job,
      List<List<byte[]>> payloads, FaultPoint crashOnBatch2, int freshJvmBatch, long pauseBeforeLastMs)
      throws Exception {
    String app = TestPipeline.uniqueApp("stateful");

    SpindriftRuntime first = TestPipeline.runtime(app, job.getName());
    long offset = 0;
    for (int i = 0; i < payloads.size(); i++) {
      if (i == payloads.size() - 1) {
        Thread.sleep(pauseBeforeLastMs);
      }
      SpindriftRuntime container = i < 2 ? first : (i == 2 ? TestPipeline.runtime(app, job.getName()) : first);
      String event = KinesisEvents.event("clicks", "shardId-000000000000", offset, payloads.get(i));
      if (i == freshJvmBatch) {
        invokeInFreshJvm(first, job, event);
        offset += payloads.get(i).size();
        continue;
      }
      if (i == 1 && crashOnBatch2 != null) {
        RuntimeHooks.faults(container).arm(crashOnBatch2, 1);
        try {
          new InProcessInvoker<>(new KinesisHandler(container), KinesisEvent.class, StreamsEventResponse.class, 1)
              .invoke(event);
          throw new AssertionError("the armed crash did not happen");
        } catch (io.spindrift.local.mapping.LambdaInvoker.FunctionError expected) {
          assertThat(expected).hasMessageContaining(crashOnBatch2.name());
        }
        container = TestPipeline.runtime(app, job.getName());
      }
      new InProcessInvoker<>(new KinesisHandler(container), KinesisEvent.class, StreamsEventResponse.class, 1)
          .invoke(event);
      offset += payloads.get(i).size();
    }
    Set<String> spindrift = new TreeSet<>();
    List<Row> landed = TestPipeline.count(first, "it." + app) == 0 ? List.of() : TestPipeline.rows(first,
        "SELECT window_start, page, views FROM " + TestPipeline.qualified(first, "it." + app));
    for (Row row : landed) {
      spindrift.add(row.get(0) + " " + row.get(1) + " " + row.get(2));
    }

    Map<String, String> state = durableState(first, app);

    Set<String> oracle = oracle(first.spark(), payloads, job.getDeclaredConstructor().newInstance(), pauseBeforeLastMs);

    assertThat(oracle).as("the plain query emitted finished rows").hasSizeGreaterThanOrEqualTo(2);
    assertThat(spindrift).isEqualTo(oracle);
    first.close();
    return state;
  }

  /**
   * The app's state rows in DynamoDB, as "operator/store/partition key-hex" to "value-hex" (the app's name left
   * out, so that two runs of the same job compare), and each bucket's applied seq.
   */
  static Map<String, String> durableState(SpindriftRuntime runtime, String app) {
    String prefix = "APP#" + app + "#OP#";
    Map<String, String> state = new TreeMap<>();
    AwsClients.dynamoDb(runtime.config()).scanPaginator(b -> b.tableName(StateTable.DEFAULT_TABLE)
            .consistentRead(true)
            .filterExpression("begins_with(pk, :app)")
            .expressionAttributeValues(Map.of(":app", AttributeValue.builder().s(prefix).build())))
        .items().forEach(item -> {
          String where = item.get("pk").s().substring(prefix.length()) + " " + hex(item.get("sk").b().asByteArray());
          if (item.containsKey("v")) {
            state.put(where, hex(item.get("v").b().asByteArray()));
          } else if (item.get("sk").b().asByteArray()[0] == 0) {
            state.put(where, "applied through " + item.get("seq").n());
          }
        });
    return state;
  }

  private static String hex(byte[] bytes) {
    return java.util.HexFormat.of().formatHex(bytes);
  }

  private static void invokeInFreshJvm(SpindriftRuntime like, Class<?> job, String event) throws Exception {
    java.nio.file.Path eventFile = java.nio.file.Files.createTempFile("spindrift-event", ".json");
    java.nio.file.Files.writeString(eventFile, event);
    List<String> command = new ArrayList<>();
    command.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx2g");
    command.addAll(List.of(System.getProperty("spindrift.spark.opens", "").split(" ")));
    command.removeIf(String::isBlank);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), FreshJvmInvocation.class.getName(),
        eventFile.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(like.config().asMap());
    builder.environment().put("SPINDRIFT_JOB", job.getName());
    builder.environment().put("AWS_ACCESS_KEY_ID", "local");
    builder.environment().put("AWS_SECRET_ACCESS_KEY", "local");
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
    assertThat(output).contains("RESPONSE {\"batchItemFailures\":[]}");
  }

  /** The same job as one plain Structured Streaming query over a MemoryStream, one micro-batch per batch. */
  private static Set<String> oracle(SparkSession base, List<List<byte[]>> payloads, io.spindrift.job.StreamJob job,
      long pauseBeforeLastMs) throws Exception {
    OracleStream stream = new OracleStream(base);
    SparkSession spark = stream.spark();
    Dataset<Row> output = job.transform(stream.input(), new JobContext("oracle", SourceKind.KINESIS));
    String sink = "oracle_" + System.nanoTime();
    StreamingQuery query = output.writeStream().format("memory").queryName(sink).outputMode("append").start();
    for (int i = 0; i < payloads.size(); i++) {
      if (i == payloads.size() - 1) {
        Thread.sleep(pauseBeforeLastMs);
      }
      stream.add(payloads.get(i), BASE_MS);
      query.processAllAvailable();
    }
    query.stop();
    Set<String> out = new TreeSet<>();
    for (Row row : spark.table(sink).collectAsList()) {
      out.add(row.getAs("window_start") + " " + row.getAs("page") + " " + row.getAs("views"));
    }
    return out;
  }
}
