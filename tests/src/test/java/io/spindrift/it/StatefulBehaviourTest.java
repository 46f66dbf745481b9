package io.spindrift.it;

import io.spindrift.runtime.RuntimeHooks;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.window;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import io.spindrift.state.StateIoCounts;
import io.spindrift.state.StateTable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** Stateful jobs: warm caching, eviction of closed windows, and concurrent lanes on shared keys. */
class StatefulBehaviourTest {
  private static final long BASE_MS = 1_795_500_000_000L;

  private static byte[] view(String id, String page, long second) {
    return ("{\"event_id\":\"" + id + "\",\"user_id\":\"u\",\"page\":\"" + page + "\",\"ts\":\""
        + Instant.ofEpochMilli(BASE_MS + second * 1000) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static void invoke(SpindriftRuntime runtime, String shard, long offset, List<byte[]> payloads)
      throws LambdaInvoker.FunctionError {
    new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1)
        .invoke(KinesisEvents.event("clicks", shard, offset, payloads));
  }

  private static long stateItems(SpindriftRuntime runtime, String app) {
    DynamoDbClient dynamo = AwsClients.dynamoDb(runtime.config());
    return dynamo.scanPaginator(b -> b.tableName(StateTable.DEFAULT_TABLE)
            .filterExpression("begins_with(pk, :app)")
            .expressionAttributeValues(Map.of(":app", AttributeValue.builder().s("APP#" + app + "#OP").build())))
        .items().stream().filter(item -> item.containsKey("v")).count();
  }

  @Test
  void aWarmContainerKeepsItsQueryUntilAnotherContainerCommits() throws Exception {
    String app = TestPipeline.uniqueApp("reuse");
    SpindriftRuntime one = TestPipeline.runtime(app, PageViewCounts.class.getName());
    SpindriftRuntime two = TestPipeline.runtime(app, PageViewCounts.class.getName());
    invoke(one, "shardId-000000000000", 0, List.of(view("a", "/", 1), view("b", "/cart", 2)));
    invoke(one, "shardId-000000000000", 2, List.of(view("c", "/", 3)));
    invoke(one, "shardId-000000000000", 3, List.of(view("d", "/", 4)));
    assertThat(RuntimeHooks.statefulQueryStarts(one, SourceKind.KINESIS)).as("three batches of one container, one query").isEqualTo(1);

    invoke(two, "shardId-000000000001", 0, List.of(view("e", "/cart", 5)));
    invoke(one, "shardId-000000000000", 4, List.of(view("f", "/", 6)));
    assertThat(RuntimeHooks.statefulQueryStarts(one, SourceKind.KINESIS)).as("restarted after the other container's commit")
        .isEqualTo(2);
    invoke(one, "shardId-000000000000", 5, List.of(view("g", "/", 7)));
    assertThat(RuntimeHooks.statefulQueryStarts(one, SourceKind.KINESIS)).isEqualTo(2);

    // a batch an hour later closes the window (the watermark carried across both containers' queries)
    invoke(two, "shardId-000000000001", 1, List.of(view("h", "/search", 4000)));
    invoke(one, "shardId-000000000000", 6, List.of(view("i", "/search", 4001)));
    // the watermark is the slower lane's newest event less the delay: one more batch evicts with it
    invoke(two, "shardId-000000000001", 2, List.of(view("j", "/search", 4002)));
    List<Row> rows = TestPipeline.rows(one, "SELECT page, views FROM " + TestPipeline.qualified(one, "it." + app)
        + " ORDER BY page");
    assertThat(rows).extracting(r -> r.getString(0) + "=" + r.getLong(1)).containsExactly("/=5", "/cart=2");
    one.close();
    two.close();
  }

  @Test
  void warmSecondBatchOverTheSameKeysMakesNoStateReadsAndClosedWindowsLeaveDynamoDb() throws Exception {
    String app = TestPipeline.uniqueApp("warm");
    SpindriftRuntime runtime = TestPipeline.runtime(app, PageViewCounts.class.getName());
    invoke(runtime, "shardId-000000000000", 0, List.of(view("a", "/", 1), view("b", "/cart", 2)));
    StateIoCounts afterFirst = RuntimeHooks.stateIo(runtime, SourceKind.KINESIS);
    invoke(runtime, "shardId-000000000000", 2, List.of(view("c", "/", 3), view("d", "/cart", 4)));
    StateIoCounts second = RuntimeHooks.stateIo(runtime, SourceKind.KINESIS).minus(afterFirst);

    assertThat(second.readRequests()).as("state reads in the warm second batch").isZero();
    assertThat(second.itemsWritten()).as("the second batch's state changes were applied").isPositive();
    assertThat(stateItems(runtime, app)).as("open windows are in DynamoDB").isPositive();

    // a batch far past the window closes it: its row lands and its state leaves DynamoDB
    invoke(runtime, "shardId-000000000000", 4, List.of(view("e", "/search", 100)));
    invoke(runtime, "shardId-000000000000", 5, List.of(view("f", "/search", 101)));
    List<Row> rows = TestPipeline.rows(runtime, "SELECT page, views FROM " + TestPipeline.qualified(runtime, "it." + app)
        + " ORDER BY page");
    assertThat(rows).extracting(r -> r.getString(0) + "=" + r.getLong(1)).containsExactly("/=2", "/cart=2");
    assertThat(stateItems(runtime, app)).as("only the window still open keeps state").isEqualTo(1);
    runtime.close();
  }

  /** Views per page and 10-second window, with a watermark an hour behind: lane order cannot make a view late. */
  public static final class HourlyWatermarkCounts implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .withWatermark("ts", "1 hour")
          .groupBy(window(col("ts"), "10 seconds"), col("page"))
          .count()
          .select(col("window.start").as("window_start"), col("page"), col("count").as("views"));
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.hourly");
    }
  }

  @Test
  void fourLanesOnSharedKeysConflictAndStillCountEveryViewOnce() throws Exception {
    String app = TestPipeline.uniqueApp("statefulconc");
    List<SpindriftRuntime> containers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      containers.add(TestPipeline.runtime(app, HourlyWatermarkCounts.class.getName()));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> lanes = new ArrayList<>();
    for (int lane = 0; lane < 4; lane++) {
      int l = lane;
      lanes.add(pool.submit(() -> {
        for (int batch = 0; batch < 2; batch++) {
          List<byte[]> views = new ArrayList<>();
          for (int i = 0; i < 10; i++) {
            views.add(view("l" + l + "b" + batch + "i" + i, i % 2 == 0 ? "/" : "/cart", i));
          }
          invokeWithRetries(containers.get(l), "shardId-00000000000" + l, batch * 10L, views);
        }
        return null;
      }));
    }
    for (Future<?> lane : lanes) {
      lane.get();
    }
    pool.shutdown();
    // a view two hours later on every lane moves the watermark (the slowest lane's) past every window above
    for (int lane = 0; lane < 4; lane++) {
      invokeWithRetries(containers.get(lane), "shardId-00000000000" + lane, 20,
          List.of(view("late" + lane, "/x", 7200)));
    }
    invokeWithRetries(containers.get(0), "shardId-000000000000", 21, List.of(view("later", "/x", 7201)));

    SpindriftRuntime reader = containers.get(0);
    List<Row> rows = TestPipeline.rows(reader, "SELECT page, sum(views) FROM "
        + TestPipeline.qualified(reader, "it." + app) + " GROUP BY page ORDER BY page");
    assertThat(rows).extracting(r -> r.getString(0) + "=" + r.getLong(1)).containsExactly("/=40", "/cart=40");
    long conflicts = containers.stream().mapToLong(SpindriftRuntime::conflicts).sum();
    assertThat(conflicts).as("concurrent stateful commits met conflicts and re-ran").isPositive();
    // the figures issue 3 asks for (a measurement printed, not asserted): conflicts and DynamoDB state requests
    long reads = 0;
    long writes = 0;
    for (SpindriftRuntime container : containers) {
      StateIoCounts io = RuntimeHooks.stateIo(container, SourceKind.KINESIS);
      if (io != null) {
        reads += io.readRequests() + io.metaReads();
        writes += io.writeRequests();
      }
    }
    System.out.printf("STATEFUL-CONCURRENCY 4 lanes, 10 committed batches: %d commit conflicts (%.2f per batch),"
        + " %d state read requests, %d state write requests (%.1f requests per batch)%n", conflicts, conflicts / 10.0,
        reads, writes, (reads + writes) / 10.0);
    containers.forEach(SpindriftRuntime::close);
  }

  /** Lambda retries a failed invocation; so does this test (a commit that kept conflicting fails the invocation). */
  private static void invokeWithRetries(SpindriftRuntime runtime, String shard, long offset, List<byte[]> views)
      throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        invoke(runtime, shard, offset, views);
        return;
      } catch (LambdaInvoker.FunctionError e) {
        if (attempt >= 5) {
          throw e;
        }
      }
    }
  }
}
