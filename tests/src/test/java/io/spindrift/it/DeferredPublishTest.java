package io.spindrift.it;

import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.RollForwardHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.runtime.AwsClients;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.iceberg.Snapshot;
import org.junit.jupiter.api.Test;

/**
 * SPINDRIFT_PUBLISH=deferred: an invocation responds once its commit is durable, and its publish happens on the
 * container's publisher thread or, failing that, in the next invocation's roll-forward, exactly once (I1, I3),
 * also when the publish in flight meets a duplicate delivery, a crash or another container's roll-forward.
 */
class DeferredPublishTest {
  private static final String LANE_0 = "shardId-000000000000";
  private static final String LANE_1 = "shardId-000000000001";

  private static SpindriftRuntime deferred(String app) {
    return TestPipeline.runtime(app, Map.of("SPINDRIFT_PUBLISH", "deferred"));
  }

  private static LambdaInvoker invoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
  }

  private static LogSnapshot logOf(SpindriftRuntime runtime, String shard) {
    SpindriftConfig config = runtime.config();
    return new DynamoDbCommitLog(AwsClients.dynamoDb(config), config.get(Setting.COMMIT_TABLE))
        .read(config.app(), List.of("kinesis:clicks/" + shard));
  }

  @Test
  void backgroundThreadPublishesTheCommitOnceAndADuplicateChangesNothing() throws Exception {
    String app = TestPipeline.uniqueApp("defer");
    SpindriftRuntime runtime = deferred(app);
    String event = KinesisEvents.event("clicks", LANE_0, 0, KinesisEvents.clicks(200, 31));

    assertThat(invoker(runtime).invoke(event)).contains("\"batchItemFailures\":[]");
    assertThat(logOf(runtime, LANE_0).headSeq()).as("committed before the response").isEqualTo(1);
    // redelivered while the first publish may still be in flight: joins it, publishes nothing twice
    assertThat(invoker(runtime).invoke(event)).contains("\"batchItemFailures\":[]");
    assertThat(runtime.awaitPublication()).isTrue();

    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(200);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(200);
    assertThat(TestPipeline.snapshots(runtime, "it." + app)).extracting(s -> s.summary().get(CommitTag.SEQ))
        .containsExactly("1");
    assertThat(logOf(runtime, LANE_0).publishedSeq()).isEqualTo(1);
    runtime.close();
  }

  /**
   * Issue 14, defect 2: on a quiet stream nothing follows a deferred publish that froze or crashed with its
   * container. The scheduled roll-forward (RollForwardHandler, an EventBridge schedule in AWS), in any container,
   * completes it once and reports the oldest waiting commit's age; a second tick finds nothing to do.
   */
  @Test
  void aQuietStreamsUnfinishedDeferredPublishIsCompletedByTheScheduledRollForward() throws Exception {
    String app = TestPipeline.uniqueApp("defsched");
    SpindriftRuntime runtime = deferred(app);
    List<byte[]> clicks = KinesisEvents.clicks(30, 35);
    clicks.set(3, "{broken".getBytes());
    RuntimeHooks.faults(runtime).arm(FaultPoint.MID_PUBLISH, 1);
    assertThat(invoker(runtime).invoke(KinesisEvents.event("clicks", LANE_0, 0, clicks)))
        .contains("\"batchItemFailures\":[]");
    assertThat(runtime.awaitPublication()).as("the background publish died half way").isFalse();
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).as("rejects not yet published").isZero();

    SpindriftRuntime scheduled = deferred(app);
    Map<String, Object> tick = new RollForwardHandler(scheduled).handleRequest(Map.of(), null);
    assertThat(tick).containsEntry("headSeq", 1L).containsEntry("unpublished", 1L);
    assertThat((Integer) tick.get("published")).isEqualTo(1);
    assertThat((Long) tick.get("oldestUnpublishedAgeSeconds")).isGreaterThanOrEqualTo(0L);
    assertThat(TestPipeline.count(scheduled, "it." + app)).isEqualTo(29);
    assertThat(TestPipeline.count(scheduled, "it." + app + "_rejects")).isEqualTo(1);
    assertThat(logOf(scheduled, LANE_0).publishedSeq()).isEqualTo(1);

    Map<String, Object> next = new RollForwardHandler(scheduled).handleRequest(Map.of(), null);
    assertThat(next).containsEntry("unpublished", 0L).containsEntry("published", 0);
    assertThat(TestPipeline.count(scheduled, "it." + app)).isEqualTo(29);
    assertThat(TestPipeline.snapshots(scheduled, "it." + app)).hasSize(1);
    runtime.close();
    scheduled.close();
  }

  @Test
  void crashOfTheBackgroundPublishIsCompletedByTheNextInvocation() throws Exception {
    String app = TestPipeline.uniqueApp("defcrash");
    SpindriftRuntime runtime = deferred(app);
    List<byte[]> clicks = KinesisEvents.clicks(60, 32);
    clicks.set(10, "{broken".getBytes());
    String event = KinesisEvents.event("clicks", LANE_0, 0, clicks);
    RuntimeHooks.faults(runtime).arm(FaultPoint.MID_PUBLISH, 1);

    // the crash happens after the response, on the publisher thread: the invocation itself succeeded
    assertThat(invoker(runtime).invoke(event)).contains("\"batchItemFailures\":[]");
    assertThat(runtime.awaitPublication()).as("the background publish crashed").isFalse();
    LogSnapshot afterCrash = logOf(runtime, LANE_0);
    assertThat(afterCrash.headSeq()).isEqualTo(1);
    assertThat(afterCrash.publishedSeq()).as("committed, not yet marked published").isZero();
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(59);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isZero();

    // Lambda retries nothing (the response was a success); a duplicate delivery and the next batch come in
    invoker(runtime).invoke(event);
    invoker(runtime).invoke(KinesisEvents.event("clicks", LANE_0, 60, KinesisEvents.clicks(40, 33)));
    runtime.close();

    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(99);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(99);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isEqualTo(1);
    assertThat(TestPipeline.snapshots(runtime, "it." + app)).extracting(s -> s.summary().get(CommitTag.SEQ))
        .containsExactly("1", "2");
    assertThat(logOf(runtime, LANE_0).publishedSeq()).isEqualTo(2);
  }

  @Test
  void aCommitWhoseContainerDiesBeforeItsPublishIsPublishedByAnotherContainer() throws Exception {
    String app = TestPipeline.uniqueApp("defdie");
    SpindriftRuntime dying = deferred(app);
    RuntimeHooks.faults(dying).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(dying).invoke(KinesisEvents.event("clicks", LANE_0, 0,
        KinesisEvents.clicks(70, 34)))).hasMessageContaining("AFTER_COMMIT");
    assertThat(logOf(dying, LANE_0).publishedSeq()).isZero();

    SpindriftRuntime other = deferred(app);
    invoker(other).invoke(KinesisEvents.event("clicks", LANE_1, 0, KinesisEvents.clicks(30, 35)));
    other.close();

    assertThat(TestPipeline.count(other, "it." + app)).isEqualTo(100);
    assertThat(TestPipeline.distinctEvents(other, "it." + app)).isEqualTo(100);
    assertThat(logOf(other, LANE_1).publishedSeq()).isEqualTo(2);
  }

  @Test
  void backgroundPublishesRacingOtherContainersRollForwardsPublishEverySeqOnce() throws Exception {
    String app = TestPipeline.uniqueApp("defrace");
    List<SpindriftRuntime> containers = List.of(deferred(app), deferred(app));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<?>> lanes = new ArrayList<>();
    for (int lane = 0; lane < 2; lane++) {
      int l = lane;
      lanes.add(pool.submit(() -> {
        for (int batch = 0; batch < 4; batch++) {
          String event = KinesisEvents.event("clicks", l == 0 ? LANE_0 : LANE_1, batch * 25L,
              KinesisEvents.clicks(25, 40 + l * 10 + batch));
          invoker(containers.get(l)).invoke(event);
          // the same batch redelivered to the other container, while publishes are in flight on both
          invoker(containers.get(1 - l)).invoke(event);
        }
        return null;
      }));
    }
    for (Future<?> lane : lanes) {
      lane.get();
    }
    pool.shutdown();
    containers.forEach(SpindriftRuntime::close);

    SpindriftRuntime reader = containers.get(0);
    assertThat(TestPipeline.count(reader, "it." + app)).isEqualTo(200);
    assertThat(TestPipeline.distinctEvents(reader, "it." + app)).isEqualTo(200);
    long next = 1;
    for (Snapshot snapshot : TestPipeline.snapshots(reader, "it." + app)) {
      Map<String, String> summary = snapshot.summary();
      long first = Long.parseLong(summary.getOrDefault(CommitTag.FIRST_SEQ, summary.get(CommitTag.SEQ)));
      assertThat(first).as("table commits cover each seq once, in order").isEqualTo(next);
      next = Long.parseLong(summary.get(CommitTag.SEQ)) + 1;
    }
    assertThat(next - 1).as("every commit published").isEqualTo(logOf(reader, LANE_0).headSeq());
  }

  @Test
  void anUnknownPublishModeNamesTheSetting() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_PUBLISH", "later")))
        .hasMessageContaining("SPINDRIFT_PUBLISH").hasMessageContaining("inline or deferred");
  }
}
