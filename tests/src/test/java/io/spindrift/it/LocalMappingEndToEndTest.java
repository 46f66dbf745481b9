package io.spindrift.it;

import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
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
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Kinesis and MSK through the local event-source mapping into Iceberg: every record lands exactly once. */
class LocalMappingEndToEndTest {
  @RegisterExtension
  final TestStreams streams = new TestStreams();
  private static final long TIMEOUT_MS = 240_000;

  /** Puts {@code events} clickstream events (2% malformed) into {@code stream}; returns how many are malformed. */
  static int produceKinesis(AmazonKinesis kinesis, String stream, int events, long seed) {
    ClickstreamGenerator generator = new ClickstreamGenerator(seed, 0.02, System.currentTimeMillis());
    List<String> keys = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    int malformed = 0;
    for (int i = 0; i < events; i++) {
      ClickstreamGenerator.Event event = generator.next();
      keys.add(event.key());
      payloads.add(event.json());
      malformed += event.malformed() ? 1 : 0;
    }
    LocalSources.putRecords(kinesis, stream, keys, payloads);
    return malformed;
  }

  @Test
  void kinesisRecordsLandExactlyOnceThroughTheLocalMapping() throws Exception {
    String app = TestPipeline.uniqueApp("kinesis");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 2);
    int malformed = produceKinesis(kinesis, app, 3000, 21);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, "us-east-1",
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 2),
        MappingOptions.defaults().withBatchSize(400).withBatchingWindow(Duration.ofMillis(50)), failures::add)) {
      assertThat(mapping.awaitRecords(3000, TIMEOUT_MS)).as("all records delivered").isTrue();
      assertThat(mapping.batchSizes()).allMatch(size -> size <= 400);
    }

    assertThat(failures).isEmpty();
    assertThat(malformed).isPositive();
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(3000 - malformed);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(3000 - malformed);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isEqualTo(malformed);
  }

  @Test
  void mskRecordsLandExactlyOnceThroughTheLocalMapping() throws Exception {
    String app = TestPipeline.uniqueApp("msk");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    String bootstrap = TestPipeline.stack().kafkaBootstrap();
    LocalSources.createTopic(bootstrap, app, 2);
    ClickstreamGenerator generator = new ClickstreamGenerator(22, 0.02, System.currentTimeMillis());
    int malformed = 0;
    try (KafkaProducer<byte[], byte[]> producer = LocalSources.producer(bootstrap)) {
      for (int i = 0; i < 3000; i++) {
        ClickstreamGenerator.Event event = generator.next();
        malformed += event.malformed() ? 1 : 0;
        LocalSources.send(producer, app, event.key(), event.json());
      }
    }
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    try (LocalEventSourceMapping mapping = EventSources.kafka(bootstrap, app, "us-east-1",
        new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1),
        MappingOptions.defaults().withBatchSize(500), failures::add)) {
      assertThat(mapping.awaitRecords(3000, TIMEOUT_MS)).as("all records delivered").isTrue();
    }

    assertThat(failures).isEmpty();
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(3000 - malformed);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(3000 - malformed);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isEqualTo(malformed);
  }

  @Test
  void mappingBisectsAFailedBatchAndEveryRecordStillLandsOnce() throws Exception {
    String app = TestPipeline.uniqueApp("esmbisect");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 1);
    int malformed = produceKinesis(kinesis, app, 300, 23);
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_COMMIT, 1);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, "us-east-1",
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1),
        MappingOptions.defaults().withBatchSize(300).withBatchingWindow(Duration.ofMillis(500)), failures::add)) {
      assertThat(mapping.awaitRecords(300, TIMEOUT_MS)).isTrue();
      assertThat(mapping.functionErrors()).isEqualTo(1);
      assertThat(mapping.batchSizes()).contains(150);
    }

    assertThat(failures).isEmpty();
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(300 - malformed);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(300 - malformed);
  }

  @Test
  void mappingRetriesFromTheFirstFailedRecordOfAPartialResponse() throws Exception {
    String app = TestPipeline.uniqueApp("partial");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 1);
    produceKinesis(kinesis, app, 100, 24);
    InProcessInvoker<KinesisEvent, StreamsEventResponse> real =
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
    List<Integer> eventSizes = new CopyOnWriteArrayList<>();
    // a function that reports the 61st record of its first batch as failed: the mapping must resend from it
    LambdaInvoker flaky = eventJson -> {
      String response = real.invoke(eventJson);
      int records = eventJson.split("\"eventID\"").length - 1;
      eventSizes.add(records);
      if (eventSizes.size() == 1) {
        String sequence = eventJson.split("\"sequenceNumber\":\"")[61].split("\"")[0];
        return "{\"batchItemFailures\":[{\"itemIdentifier\":\"" + sequence + "\"}]}";
      }
      return response;
    };

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, "us-east-1", flaky,
        MappingOptions.defaults().withBatchSize(100).withBatchingWindow(Duration.ofMillis(500)), f -> { })) {
      assertThat(mapping.awaitRecords(100, TIMEOUT_MS)).isTrue();
    }

    assertThat(eventSizes.get(0)).isEqualTo(100);
    assertThat(eventSizes.get(1)).isEqualTo(40);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(TestPipeline.count(runtime, "it." + app));
  }
}
