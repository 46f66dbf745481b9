package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.LaneRange;
import io.spindrift.config.Setting;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Catch-up read-ahead (docs/FANOUT.md) through the local event-source mapping: a lane with a backlog of 600 records,
 * delivered in events of at most 100, commits past all of it in its first invocation (without read-ahead, at least
 * six commits); the mapping's five later deliveries, and the first event sent again, change nothing. Every record
 * lands exactly once, KPL aggregates read ahead included; the Kafka batch with its read-ahead fans out.
 */
class CatchUpReadAheadTest {
  @RegisterExtension
  final TestStreams streams = new TestStreams();
  private static final long TIMEOUT_MS = 90_000;
  private static final int BACKLOG = 600;
  private static final int BATCH = 100;

  private static SpindriftRuntime runtime(String app) {
    return runtime(app, Map.of());
  }

  private static SpindriftRuntime runtime(String app, Map<String, String> extra) {
    Map<String, String> settings = new java.util.HashMap<>(extra);
    settings.putAll(Map.of(
        "SPINDRIFT_READ_AHEAD", "on",
        "SPINDRIFT_READ_AHEAD_MAX_RECORDS", "1000",
        // kinesalite reports MillisBehindLatest 0 for an open shard: any backlog is "far behind" here
        "SPINDRIFT_READ_AHEAD_MIN_BEHIND_MS", "0",
        "SPINDRIFT_READ_AHEAD_MIN_LAG_RECORDS", "1",
        "SPINDRIFT_KINESIS_ENDPOINT", TestPipeline.stack().kinesisEndpoint(),
        "SPINDRIFT_KAFKA_BOOTSTRAP", TestPipeline.stack().kafkaBootstrap()));
    return TestPipeline.runtime(app, settings);
  }

  /** Every event the function was sent, in order, and its response. */
  private record Recording(LambdaInvoker function, List<String> events) {
    static Recording of(LambdaInvoker real) {
      List<String> events = new CopyOnWriteArrayList<>();
      return new Recording(json -> {
        events.add(json);
        return real.invoke(json);
      }, events);
    }
  }

  @Test
  void kinesisBacklogCommitsInOneInvocationAndLaterDeliveriesChangeNothing() throws Exception {
    String app = TestPipeline.uniqueApp("readahead_kinesis");
    SpindriftRuntime runtime = runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 1);
    // 590 plain records (2% malformed), then 2 KPL aggregates of 5 user records each: all past the first event
    ClickstreamGenerator generator = new ClickstreamGenerator(41, 0.02, System.currentTimeMillis());
    List<String> keys = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    int malformed = 0;
    for (int i = 0; i < BACKLOG - 10; i++) {
      ClickstreamGenerator.Event event = generator.next();
      keys.add(event.key());
      payloads.add(event.json());
      malformed += event.malformed() ? 1 : 0;
    }
    for (int aggregate = 0; aggregate < 2; aggregate++) {
      List<String> userKeys = new ArrayList<>();
      List<byte[]> userPayloads = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        ClickstreamGenerator.Event event = generator.next();
        while (event.malformed()) {
          event = generator.next();
        }
        userKeys.add(event.key());
        userPayloads.add(event.json());
      }
      keys.add("kpl-" + aggregate);
      payloads.add(KplRecords.aggregate(userKeys, userPayloads));
    }
    LocalSources.putRecords(kinesis, app, keys, payloads);
    InProcessInvoker<KinesisEvent, StreamsEventResponse> handler =
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
    Recording recording = Recording.of(handler);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    List<Integer> batchSizes;
    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, "us-east-1", recording.function(),
        MappingOptions.defaults().withBatchSize(BATCH).withBatchingWindow(Duration.ofMillis(20)), failures::add)) {
      // the mapping counts stored records: an aggregate is one
      assertThat(mapping.awaitRecords(BACKLOG - 8, TIMEOUT_MS)).as("all records delivered").isTrue();
      batchSizes = mapping.batchSizes();
    }

    assertThat(failures).isEmpty();
    assertThat(batchSizes).allMatch(size -> size <= BATCH).hasSizeGreaterThanOrEqualTo(BACKLOG / BATCH);
    int expected = BACKLOG - 10 + 10 - malformed;
    assertCommittedOnceAndTotals(runtime, app, expected, malformed);
    int firstEvent = recording.events().get(0).split("\"eventID\"").length - 1;
    assertThat(runtime.readAheadRecords()).isEqualTo(BACKLOG - firstEvent);

    // the first event sent again (a Lambda retry, a duplicate delivery): all of it is below the lane's position
    String response = handler.invoke(recording.events().get(0));
    assertThat(response).doesNotContain("itemIdentifier");
    assertCommittedOnceAndTotals(runtime, app, expected, malformed);
  }

  @Test
  void kafkaBacklogCommitsInOneInvocationAndLaterDeliveriesChangeNothing() throws Exception {
    String app = TestPipeline.uniqueApp("readahead_kafka");
    // a batch with its read-ahead over 300 records fans out (to two in-process children) like any batch
    SpindriftRuntime runtime = runtime(app, Map.of(
        Setting.FANOUT.key(), "auto",
        Setting.FANOUT_MAX_RECORDS.key(), "300",
        Setting.FANOUT_RECORDS_PER_CHILD.key(), "300",
        Setting.FANOUT_INVOKER.key(), "in-process"));
    String bootstrap = TestPipeline.stack().kafkaBootstrap();
    LocalSources.createTopic(bootstrap, app, 1);
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0.02, System.currentTimeMillis());
    int malformed = 0;
    try (KafkaProducer<byte[], byte[]> producer = LocalSources.producer(bootstrap)) {
      for (int i = 0; i < BACKLOG; i++) {
        ClickstreamGenerator.Event event = generator.next();
        malformed += event.malformed() ? 1 : 0;
        LocalSources.send(producer, app, event.key(), event.json());
      }
    }
    InProcessInvoker<KafkaEvent, KafkaBatchResponse> handler =
        new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1);
    Recording recording = Recording.of(handler);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    List<Integer> batchSizes;
    try (LocalEventSourceMapping mapping = EventSources.kafka(bootstrap, app, "us-east-1", recording.function(),
        MappingOptions.defaults().withBatchSize(BATCH), failures::add)) {
      assertThat(mapping.awaitRecords(BACKLOG, TIMEOUT_MS)).as("all records delivered").isTrue();
      batchSizes = mapping.batchSizes();
    }

    assertThat(failures).isEmpty();
    assertThat(batchSizes).allMatch(size -> size <= BATCH).hasSizeGreaterThanOrEqualTo(BACKLOG / BATCH);
    assertCommittedOnceAndTotals(runtime, app, BACKLOG - malformed, malformed);
    int firstEvent = recording.events().get(0).split("\"offset\"").length - 1;
    assertThat(runtime.readAheadRecords()).isEqualTo(BACKLOG - firstEvent);
    assertThat(runtime.fanOutTotals().batches()).isEqualTo(1);
    assertThat(runtime.lastFanOut(io.spindrift.event.SourceKind.KAFKA).records()).isEqualTo(BACKLOG);

    String response = handler.invoke(recording.events().get(0));
    assertThat(response).doesNotContain("itemIdentifier");
    assertCommittedOnceAndTotals(runtime, app, BACKLOG - malformed, malformed);
  }

  /** One commit, covering the whole lane; the table and its rejects hold every record once. */
  private static void assertCommittedOnceAndTotals(SpindriftRuntime runtime, String app, long rows, long rejects) {
    DynamoDbCommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(runtime.config()),
        runtime.config().get(Setting.COMMIT_TABLE));
    List<CommitRecord> commits = log.commits(app, 0, 100);
    assertThat(commits).hasSize(1);
    List<LaneRange> ranges = commits.get(0).lanes();
    assertThat(ranges).hasSize(1);
    assertThat(ranges.get(0).previous()).isNull();
    assertThat(ranges.get(0).records()).isEqualTo(BACKLOG);
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(rows);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(rows);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isEqualTo(rejects);
  }
}
