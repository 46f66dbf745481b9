package io.spindrift.it;

import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.config.Setting;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.Clickstream;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.runtime.AwsClients;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import io.spindrift.state.StateTable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.GroupState;
import org.apache.spark.sql.streaming.GroupStateTimeout;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.junit.jupiter.api.Test;
import scala.Tuple3;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * State too large for DynamoDB spills to S3 and a job keeping it gives what a plain Spark query gives: one page's
 * trail grows past an item's 400 KB (its row's value goes to S3) and the batches that grow it change more state
 * than a commit record holds (their deltas are staged in S3), run through the KinesisHandler across invocations, a
 * fresh container and, in one run, a crash while the state of such a commit is being applied.
 */
class StateSpillTest {
  private static final long BASE_MS = 1_795_600_000_000L;
  /** Each event's user id is this long, so 100 events of one page are ~300 KB of state. */
  private static final int USER_ID_CHARS = 3_000;

  @Test
  void aTrailLargerThanAnItemSpillsAndEqualsOneLongRunningQuery() throws Exception {
    runAndCompare(null);
  }

  @Test
  void aCrashWhileApplyingAStagedDeltaIsRolledForwardFromS3() throws Exception {
    runAndCompare(FaultPoint.MID_STATE_APPLY);
  }

  /** Per batch: events on "/" and on "/cart". The second and third make the "/" trail ~420 then ~480 KB. */
  private static List<List<byte[]>> batches() {
    int[][] shape = {{40, 5}, {100, 0}, {20, 5}, {0, 5}};
    List<List<byte[]>> batches = new ArrayList<>();
    int id = 0;
    for (int[] counts : shape) {
      List<byte[]> batch = new ArrayList<>();
      for (int i = 0; i < counts[0]; i++) {
        batch.add(view(id++, "/"));
      }
      for (int i = 0; i < counts[1]; i++) {
        batch.add(view(id++, "/cart"));
      }
      batches.add(batch);
    }
    return batches;
  }

  private static byte[] view(int id, String page) {
    return ("{\"event_id\":\"e" + id + "\",\"user_id\":\"" + userId(id) + "\",\"page\":\"" + page + "\",\"ts\":\""
        + Instant.ofEpochMilli(BASE_MS + id * 1000L) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static String userId(int id) {
    String prefix = "u" + id + "-";
    return prefix + String.valueOf((char) ('a' + id % 26)).repeat(USER_ID_CHARS - prefix.length());
  }

  private static void runAndCompare(FaultPoint crashOnBatch2) throws Exception {
    String app = TestPipeline.uniqueApp("spill");
    List<List<byte[]>> payloads = batches();
    SpindriftRuntime first = TestPipeline.runtime(app, PageTrails.class.getName());
    long offset = 0;
    for (int i = 0; i < payloads.size(); i++) {
      SpindriftRuntime container = i == 2 ? TestPipeline.runtime(app, PageTrails.class.getName()) : first;
      String event = KinesisEvents.event("clicks", "shardId-000000000000", offset, payloads.get(i));
      if (i == 1 && crashOnBatch2 != null) {
        RuntimeHooks.faults(container).arm(crashOnBatch2, 1);
        try {
          invoke(container, event);
          throw new AssertionError("the armed crash did not happen");
        } catch (LambdaInvoker.FunctionError expected) {
          assertThat(expected).hasMessageContaining(crashOnBatch2.name());
        }
        container = TestPipeline.runtime(app, PageTrails.class.getName());
      }
      invoke(container, event);
      offset += payloads.get(i).size();
    }

    Set<String> spindrift = new TreeSet<>();
    for (Row row : TestPipeline.rows(first,
        "SELECT window_start, page, views FROM " + TestPipeline.qualified(first, "it." + app))) {
      spindrift.add(row.get(0) + " " + row.get(1) + " " + row.get(2));
    }
    Set<String> oracle = oracle(first, payloads);
    assertThat(oracle).as("one row per page and batch that touched it").hasSize(6);
    assertThat(spindrift).isEqualTo(oracle);

    assertSpilled(first, app, payloads);
    first.close();
  }

  /**
   * The commits of the two big batches point at staged deltas that exist, the "/" row's item points at an object
   * (and holds no value) and that object holds the whole trail.
   */
  private static void assertSpilled(SpindriftRuntime runtime, String app, List<List<byte[]>> payloads) {
    S3Client s3 = AwsClients.s3(runtime.config());
    String bucket = runtime.config().bucket();
    List<CommitRecord> commits = new DynamoDbCommitLog(AwsClients.dynamoDb(runtime.config()),
        runtime.config().get(Setting.COMMIT_TABLE)).commits(app, 0, 1_000);
    assertThat(commits).hasSize(payloads.size());
    for (int seq : new int[] {2, 3}) {
      String staged = commits.get(seq - 1).stages().stateObject();
      assertThat(staged).as("commit " + seq + "'s staged deltas")
          .isEqualTo(runtime.config().stageLocation() + "/" + commits.get(seq - 1).txnId() + "/state-deltas.bin");
      assertThat(objectBytes(s3, staged).length).isGreaterThan(300 * 1024);
    }
    assertThat(commits.get(0).stages().stateDelta()).isNotNull();
    assertThat(commits.get(0).stages().stateObject()).isNull();
    assertThat(commits.get(3).stages().stateDelta()).isNotNull();
    assertThat(commits.get(3).stages().stateObject()).isNull();

    List<String> rowObjects = s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(app + "/state/"))
        .contents().stream().map(S3Object::key).toList();
    assertThat(rowObjects).as("the \"/\" trail after commits 2 and 3").hasSize(2);

    List<Map<String, AttributeValue>> spilled = new ArrayList<>();
    AwsClients.dynamoDb(runtime.config()).scanPaginator(b -> b.tableName(StateTable.DEFAULT_TABLE)
            .consistentRead(true)
            .filterExpression("begins_with(pk, :app) AND attribute_exists(#ref)")
            .expressionAttributeNames(Map.of("#ref", "ref"))
            .expressionAttributeValues(Map.of(":app", AttributeValue.builder().s("APP#" + app + "#OP#").build())))
        .items().forEach(spilled::add);
    assertThat(spilled).hasSize(1);
    assertThat(spilled.get(0)).doesNotContainKey("v").containsEntry("seq", AttributeValue.fromN("3"));
    String trail = PageTrails.trail(expectedEntries(payloads, "/"));
    byte[] value = objectBytes(s3, spilled.get(0).get("ref").s());
    assertThat(value.length).isGreaterThan(400 * 1024);
    assertThat(indexOf(value, trail.getBytes(StandardCharsets.UTF_8))).as("the durable trail").isNotNegative();
  }

  private static TreeSet<String> expectedEntries(List<List<byte[]>> payloads, String page) {
    TreeSet<String> entries = new TreeSet<>();
    int id = 0;
    for (List<byte[]> batch : payloads) {
      for (byte[] payload : batch) {
        if (new String(payload, StandardCharsets.UTF_8).contains("\"page\":\"" + page + "\"")) {
          entries.add(PageTrails.entry("e" + id, userId(id)));
        }
        id++;
      }
    }
    return entries;
  }

  private static byte[] objectBytes(S3Client s3, String uri) {
    String path = uri.substring("s3://".length());
    int slash = path.indexOf('/');
    return s3.getObjectAsBytes(b -> b.bucket(path.substring(0, slash)).key(path.substring(slash + 1))).asByteArray();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    return -1;
  }

  private static void invoke(SpindriftRuntime runtime, String event) throws LambdaInvoker.FunctionError {
    new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1)
        .invoke(event);
  }

  /** The same job as one plain Structured Streaming query (default state store), one micro-batch per batch. */
  private static Set<String> oracle(SpindriftRuntime runtime, List<List<byte[]>> payloads) throws Exception {
    OracleStream stream = new OracleStream(runtime.spark());
    Dataset<Row> output = new PageTrails().transform(stream.input(), new JobContext("oracle", SourceKind.KINESIS));
    String sink = "oracle_" + System.nanoTime();
    StreamingQuery query = output.writeStream().format("memory").queryName(sink).outputMode("append").start();
    for (List<byte[]> batch : payloads) {
      stream.add(batch, BASE_MS);
      query.processAllAvailable();
    }
    query.stop();
    Set<String> out = new TreeSet<>();
    for (Row row : stream.spark().table(sink).collectAsList()) {
      out.add(row.getAs("window_start") + " " + row.getAs("page") + " " + row.getAs("views"));
    }
    return out;
  }

  /**
   * Every (event, user) a page has seen, kept sorted in {@code flatMapGroupsWithState}: state that only grows, the
   * same bytes whatever order rows arrive in. Per batch and page it emits the number of entries and the trail's
   * SHA-256 (as {@code window_start}) and the trail's length (as {@code views}), so equal tables mean equal state.
   */
  public static final class PageTrails implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(org.apache.spark.sql.functions.col(JobContext.REJECT_COLUMN).isNull())
          .select("page", "event_id", "user_id")
          .groupByKey((MapFunction<Row, String>) row -> row.getString(0), Encoders.STRING())
          .flatMapGroupsWithState(PageTrails::update, OutputMode.Append(), Encoders.STRING(),
              Encoders.tuple(Encoders.STRING(), Encoders.STRING(), Encoders.LONG()), GroupStateTimeout.NoTimeout())
          .toDF("window_start", "page", "views");
    }

    private static Iterator<Tuple3<String, String, Long>> update(String page, Iterator<Row> rows,
        GroupState<String> state) {
      TreeSet<String> entries = new TreeSet<>();
      if (state.exists()) {
        entries.addAll(Arrays.asList(state.get().split("\n")));
      }
      rows.forEachRemaining(row -> entries.add(entry(row.getString(1), row.getString(2))));
      String trail = trail(entries);
      state.update(trail);
      return List.of(new Tuple3<>(entries.size() + "|" + sha256(trail), page, (long) trail.length())).iterator();
    }

    static String entry(String eventId, String userId) {
      return eventId + ":" + userId;
    }

    static String trail(TreeSet<String> entries) {
      return String.join("\n", entries);
    }

    private static String sha256(String text) {
      try {
        return HexFormat.of().formatHex(
            MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.page_trails");
    }
  }
}
