package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.config.Setting;
import io.spindrift.event.Batch;
import io.spindrift.event.EventDecoder;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.protocol.PublishOutcome;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.RuntimeHooks;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Group publishing end to end (SPINDRIFT_PUBLISH_GROUP=on, the default): four containers on four Kinesis lanes commit
 * at the same moment, twice, and the app's eight commits reach the table in two table commits, one per wave: the
 * container holding the DynamoDB publish claim publishes all four, the other three find theirs in and return.
 */
class GroupPublishEndToEndTest {
  private static final int LANES = 4;
  private static final int WAVES = 2;
  private static final int RECORDS = 25;

  @ParameterizedTest
  @ValueSource(strings = {"iceberg", "delta"})
  void fourLanesCommittingAtOncePublishInOneTableCommitPerWave(String format) throws Exception {
    String app = TestPipeline.uniqueApp("group_" + format);
    CyclicBarrier allCommitted = new CyclicBarrier(LANES);
    List<SpindriftRuntime> containers = new ArrayList<>();
    for (int lane = 0; lane < LANES; lane++) {
      SpindriftRuntime container = TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", format));
      // each holds after its lane commit until all four have one: the four commits really wait together
      RuntimeHooks.faults(container).holdAt(FaultPoint.AFTER_COMMIT, () -> await(allCommitted));
      containers.add(container);
    }
    ExecutorService pool = Executors.newFixedThreadPool(LANES);
    List<Future<List<Call>>> lanes = new ArrayList<>();
    for (int lane = 0; lane < LANES; lane++) {
      SpindriftRuntime container = containers.get(lane);
      String shard = "shardId-00000000000" + lane;
      int seed = lane;
      lanes.add(pool.submit(() -> {
        List<Call> calls = new ArrayList<>();
        for (int wave = 0; wave < WAVES; wave++) {
          Batch batch = decode(KinesisEvents.event("clicks", shard, (long) wave * RECORDS,
              KinesisEvents.clicks(RECORDS, 1_000 + seed * 10 + wave)));
          long start = System.nanoTime();
          BatchOutcome outcome = container.process(batch);
          calls.add(new Call(wave, outcome, start, System.nanoTime()));
        }
        return calls;
      }));
    }
    List<Call> calls = new ArrayList<>();
    for (Future<List<Call>> lane : lanes) {
      calls.addAll(lane.get(10, TimeUnit.MINUTES));
    }
    pool.shutdown();

    for (int wave = 0; wave < WAVES; wave++) {
      int w = wave;
      List<Call> inWave = calls.stream().filter(c -> c.wave() == w).toList();
      assertThat(inWave.stream().mapToLong(Call::startNs).max().orElseThrow())
          .as("wave %d: every call started before any ended (they overlapped)", w)
          .isLessThan(inWave.stream().mapToLong(Call::endNs).min().orElseThrow());
      assertThat(inWave).extracting(c -> c.outcome().publication()).as("wave %d", w)
          .containsExactlyInAnyOrder(PublishOutcome.PUBLISHED, PublishOutcome.PUBLISHED_BY_ANOTHER,
              PublishOutcome.PUBLISHED_BY_ANOTHER, PublishOutcome.PUBLISHED_BY_ANOTHER);
    }
    SpindriftRuntime reader = containers.get(0);
    var config = reader.config();
    DynamoDbCommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(config), config.get(Setting.COMMIT_TABLE));
    assertThat(log.read(app, List.of()).headSeq()).as("commits").isEqualTo(LANES * WAVES);
    assertThat(log.read(app, List.of()).publishedSeq()).isEqualTo(LANES * WAVES);

    long rows = (long) LANES * WAVES * RECORDS;
    List<String> tableCommitSeqs = format.equals("iceberg") ? icebergCommitSeqs(reader, app) : deltaCommitSeqs(reader,
        app);
    assertThat(tableCommitSeqs).as("one table commit per wave, each through the wave's last seq")
        .containsExactly(Long.toString(LANES), Long.toString(LANES * WAVES));
    assertThat(count(reader, app, format)).isEqualTo(rows);
    assertThat(distinctEvents(reader, app, format)).isEqualTo(rows);
    containers.forEach(SpindriftRuntime::close);
  }

  /** One call of a container: its wave, what it answered and when it ran. */
  private record Call(int wave, BatchOutcome outcome, long startNs, long endNs) {}

  private static List<String> icebergCommitSeqs(SpindriftRuntime reader, String app) {
    return TestPipeline.snapshots(reader, "it." + app).stream().map(s -> s.summary().get(CommitTag.SEQ))
        .filter(seq -> seq != null).toList();
  }

  private static List<String> deltaCommitSeqs(SpindriftRuntime reader, String app) {
    return TestPipeline.s3aReader(reader).read().json(deltaPath(reader, app) + "/_delta_log/*.json")
        .where("commitInfo IS NOT NULL").orderBy("commitInfo.timestamp").select("commitInfo.tags")
        .collectAsList().stream().map(row -> row.getStruct(0) == null ? null : (String) row.getStruct(0)
            .getAs(CommitTag.SEQ))
        .filter(seq -> seq != null).toList();
  }

  private static long count(SpindriftRuntime reader, String app, String format) {
    return format.equals("iceberg") ? TestPipeline.count(reader, "it." + app)
        : TestPipeline.s3aReader(reader).read().format("delta").load(deltaPath(reader, app)).count();
  }

  private static long distinctEvents(SpindriftRuntime reader, String app, String format) {
    return format.equals("iceberg") ? TestPipeline.distinctEvents(reader, "it." + app)
        : TestPipeline.s3aReader(reader).read().format("delta").load(deltaPath(reader, app)).select("event_id")
            .distinct().count();
  }

  private static String deltaPath(SpindriftRuntime runtime, String app) {
    return "s3a://" + runtime.config().bucket() + "/warehouse/it/" + app;
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await(5, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException("The other lanes did not commit", e);
    }
  }

  private static Batch decode(String event) {
    return EventDecoder.decode(LambdaEventSerializers.serializerFor(KinesisEvent.class,
        KinesisEvent.class.getClassLoader()).fromJson(event));
  }
}
