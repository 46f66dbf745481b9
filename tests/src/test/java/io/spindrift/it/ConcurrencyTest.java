package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.S3CommitSpill;
import io.spindrift.config.Setting;
import io.spindrift.event.Batch;
import io.spindrift.event.EventDecoder;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Concurrent invocations on different lanes, and duplicate deliveries of one batch, never lose or double (I4). */
class ConcurrencyTest {
  /**
   * With lane commits (the default) four lanes committing at once never conflict; with every commit on the app's
   * head (SPINDRIFT_COMMIT_MODE=head) they do, and every conflict is resolved. Either way every record lands once.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"lanes", "head"})
  void fourContainersOnFourLanesPlusDuplicatesCommitEveryRecordOnce(String commitMode) throws Exception {
    String app = TestPipeline.uniqueApp("conc");
    List<SpindriftRuntime> containers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      containers.add(TestPipeline.runtime(app, java.util.Map.of("SPINDRIFT_COMMIT_MODE", commitMode)));
    }
    List<String> events = new ArrayList<>();
    for (int lane = 0; lane < 4; lane++) {
      for (int batch = 0; batch < 3; batch++) {
        events.add(KinesisEvents.event("clicks", "shardId-00000000000" + lane, batch * 40L,
            KinesisEvents.clicks(40, 100 + lane * 10 + batch)));
      }
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> futures = new ArrayList<>();
    for (int lane = 0; lane < 4; lane++) {
      int l = lane;
      futures.add(pool.submit(() -> {
        for (int batch = 0; batch < 3; batch++) {
          String event = events.get(l * 3 + batch);
          // each batch goes to this lane's container, then is redelivered to another container (a duplicate)
          invoke(containers.get(l), event);
          invoke(containers.get((l + 1) % 4), event);
        }
        return null;
      }));
    }
    for (Future<?> future : futures) {
      future.get();
    }
    pool.shutdown();

    SpindriftRuntime reader = containers.get(0);
    assertThat(TestPipeline.count(reader, "it." + app)).isEqualTo(480);
    assertThat(TestPipeline.distinctEvents(reader, "it." + app)).isEqualTo(480);
    long conflicts = containers.stream().mapToLong(SpindriftRuntime::conflicts).sum();
    if (commitMode.equals("head")) {
      assertThat(conflicts).as("commit conflicts on the head met and resolved").isPositive();
    } else {
      assertThat(conflicts).as("lane commits of different lanes never conflict").isZero();
    }
    containers.forEach(SpindriftRuntime::close);
  }

  private static final int CONTAINERS = 4;
  private static final String SHARD = "shardId-000000000007";
  private static final long BASE_MS = 1_795_600_000_000L;

  /** The same batch in four containers at the same moment: one commit covers it, the others find it committed. */
  @Test
  void theSameBatchInFourContainersAtOnceCommitsOnceStateless() throws Exception {
    String app = TestPipeline.uniqueApp("dupnow");
    List<byte[]> payloads = KinesisEvents.clicks(60, 7);

    List<Call> calls = deliverAtOnce(app, null, payloads);

    SpindriftRuntime reader = TestPipeline.runtime(app);
    assertCommittedOnce(reader, calls, payloads.size());
    assertThat(TestPipeline.count(reader, "it." + app)).isEqualTo(payloads.size());
    assertThat(TestPipeline.distinctEvents(reader, "it." + app)).isEqualTo(payloads.size());
    reader.close();
  }

  /** As above for a stateful job: the batch's views are counted once in state, so once in the closed windows. */
  @Test
  void theSameBatchInFourContainersAtOnceCommitsOnceStateful() throws Exception {
    String app = TestPipeline.uniqueApp("dupnowst");
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      payloads.add(view("e" + i, i % 2 == 0 ? "/" : "/cart", i));
    }

    List<Call> calls = deliverAtOnce(app, PageViewCounts.class.getName(), payloads);

    SpindriftRuntime closer = TestPipeline.runtime(app, PageViewCounts.class.getName());
    assertCommittedOnce(closer, calls, payloads.size());
    // batches an hour later move the watermark past the batch's windows (a watermark takes effect in the next
    // micro-batch), which are then written once
    for (int late = 0; late < 2; late++) {
      closer.process(decode(KinesisEvents.event("clicks", SHARD, payloads.size() + late,
          List.of(view("late" + late, "/", 3600 + late)))));
    }
    List<org.apache.spark.sql.Row> windows = TestPipeline.rows(closer, "SELECT page, sum(views) FROM "
        + TestPipeline.qualified(closer, "it." + app) + " WHERE window_start < TIMESTAMP '"
        + Instant.ofEpochMilli(BASE_MS + 600_000) + "' GROUP BY page ORDER BY page");
    assertThat(windows).extracting(row -> row.getString(0) + "=" + row.getLong(1))
        .containsExactly("/=15", "/cart=15");
    closer.close();
  }

  /** One call of a container: what it answered and when it ran. */
  private record Call(BatchOutcome outcome, long startNs, long endNs) {}

  /**
   * Runs the batch of {@code payloads} in {@link #CONTAINERS} fresh runtimes of {@code app} ({@code job}: null for
   * the Clickstream job), released together by a barrier, and asserts that the calls overlapped in time.
   */
  private static List<Call> deliverAtOnce(String app, String job, List<byte[]> payloads) throws Exception {
    String event = KinesisEvents.event("clicks", SHARD, 0, payloads);
    List<SpindriftRuntime> containers = new ArrayList<>();
    for (int i = 0; i < CONTAINERS; i++) {
      containers.add(job == null ? TestPipeline.runtime(app) : TestPipeline.runtime(app, job));
    }
    CyclicBarrier release = new CyclicBarrier(CONTAINERS);
    ExecutorService pool = Executors.newFixedThreadPool(CONTAINERS);
    List<Future<Call>> futures = new ArrayList<>();
    for (SpindriftRuntime container : containers) {
      futures.add(pool.submit(() -> {
        Batch batch = decode(event);
        release.await(1, TimeUnit.MINUTES);
        long start = System.nanoTime();
        BatchOutcome outcome = container.process(batch);
        return new Call(outcome, start, System.nanoTime());
      }));
    }
    List<Call> calls = new ArrayList<>();
    for (Future<Call> future : futures) {
      calls.add(future.get(10, TimeUnit.MINUTES));
    }
    pool.shutdown();
    containers.forEach(SpindriftRuntime::close);
    long lastStart = calls.stream().mapToLong(Call::startNs).max().orElseThrow();
    long firstEnd = calls.stream().mapToLong(Call::endNs).min().orElseThrow();
    assertThat(lastStart).as("every call started before any call ended: the invocations overlapped")
        .isLessThan(firstEnd);
    return calls;
  }

  /** One call committed the whole batch; every other call found all of it committed; the log has one commit. */
  private static void assertCommittedOnce(SpindriftRuntime reader, List<Call> calls, int records) {
    List<BatchOutcome> committed = calls.stream().map(Call::outcome).filter(outcome -> outcome.seq() > 0).toList();
    assertThat(committed).hasSize(1);
    assertThat(committed.get(0).duplicates()).isZero();
    assertThat(calls).map(Call::outcome).filteredOn(outcome -> outcome.seq() == 0)
        .hasSize(CONTAINERS - 1)
        .allSatisfy(duplicate -> assertThat(duplicate.duplicates()).isEqualTo(records));

    var config = reader.config();
    DynamoDbCommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(config), config.get(Setting.COMMIT_TABLE),
        new S3CommitSpill(AwsClients.s3(config), config.bucket()));
    long head = log.read(config.app(), List.of()).headSeq();
    List<CommitRecord> commits = log.commits(config.app(), 0, head);
    assertThat(commits).as("one commit in the app's log").hasSize(1);
    assertThat(commits.get(0).txnId()).isEqualTo(committed.get(0).txnId());
    assertThat(commits.get(0).lanes()).singleElement().satisfies(range -> {
      assertThat(range.lane()).endsWith(SHARD);
      assertThat(range.previous()).isNull();
      assertThat(range.last()).isEqualTo(KinesisEvents.sequence(records - 1));
      assertThat(range.records()).isEqualTo(records);
    });
  }

  private static byte[] view(String id, String page, long second) {
    return ("{\"event_id\":\"" + id + "\",\"user_id\":\"u\",\"page\":\"" + page + "\",\"ts\":\""
        + Instant.ofEpochMilli(BASE_MS + second * 1000) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static Batch decode(String event) {
    return EventDecoder.decode(LambdaEventSerializers.serializerFor(KinesisEvent.class,
        KinesisEvent.class.getClassLoader()).fromJson(event));
  }

  private static void invoke(SpindriftRuntime runtime, String event) {
    try {
      new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1).invoke(event);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
