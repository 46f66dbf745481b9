package io.spindrift.it;

import io.spindrift.commit.DynamoDbCommitLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.commit.CommitLog;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Failures that are not the records' fault fail the invocation and lose nothing; given-up batches are reported. */
class FailurePathTest {
  @Test
  void unreachableS3FailsTheInvocationCommitsNothingAndARetryLandsEverything() throws Exception {
    String app = TestPipeline.uniqueApp("s3down");
    SpindriftRuntime broken = SpindriftRuntime.create(LocalPipeline.config(TestPipeline.stack(), Map.of(
        "SPINDRIFT_APP", app, "SPINDRIFT_JOB", Clickstream.class.getName(), "SPINDRIFT_SINK_TABLE", "it." + app)).with(
        Map.of("SPINDRIFT_S3_ENDPOINT", "http://127.0.0.1:9")));
    String event = KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(50, 31));

    assertThatThrownBy(() -> new InProcessInvoker<>(new KinesisHandler(broken), KinesisEvent.class,
        StreamsEventResponse.class, 1).invoke(event)).isInstanceOf(LambdaInvoker.FunctionError.class);
    CommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(broken.config()), "spindrift_commits");
    assertThat(log.read(app, List.of("kinesis:clicks/shardId-000000000000")).headSeq()).isZero();

    SpindriftRuntime healthy = TestPipeline.runtime(app);
    new InProcessInvoker<>(new KinesisHandler(healthy), KinesisEvent.class, StreamsEventResponse.class, 1).invoke(event);
    assertThat(TestPipeline.count(healthy, "it." + app)).isEqualTo(50);
    broken.close();
  }

  @Test
  void mappingSendsABatchToTheFailureDestinationWhenRetriesRunOut() throws Exception {
    String stream = TestPipeline.uniqueApp("giveup");
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    LocalSources.createStream(kinesis, stream, 1);
    LocalSources.putRecords(kinesis, stream, List.of("a", "b", "c"),
        List.of("1".getBytes(), "2".getBytes(), "3".getBytes()));
    List<FailedBatch> destination = new CopyOnWriteArrayList<>();
    LambdaInvoker alwaysFails = event -> {
      throw new LambdaInvoker.FunctionError("poison", new IllegalStateException("poison"));
    };

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, stream, "us-east-1", alwaysFails,
        MappingOptions.defaults().withBatchSize(10).withBisectOnError(false).withMaxRetries(2)
            .withBatchingWindow(Duration.ofMillis(300)), destination::add)) {
      assertThat(mapping.awaitRecords(3, 60_000)).isTrue();
      assertThat(mapping.invocations()).isEqualTo(3);
    }

    assertThat(destination).singleElement().satisfies(failed -> {
      assertThat(failed.reason()).isEqualTo("retries exhausted");
      assertThat(failed.records()).isEqualTo(3);
      assertThat(failed.lanes()).containsExactly("kinesis:" + stream + "/shardId-000000000000");
      assertThat(failed.error()).contains("poison");
    });
  }

  @Test
  void mappingDropsRecordsOlderThanTheMaximumAgeToTheDestination() throws Exception {
    String stream = TestPipeline.uniqueApp("aged");
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    LocalSources.createStream(kinesis, stream, 1);
    LocalSources.putRecords(kinesis, stream, List.of("a", "b"), List.of("1".getBytes(), "2".getBytes()));
    Thread.sleep(1500);
    List<FailedBatch> destination = new CopyOnWriteArrayList<>();
    List<String> invoked = new CopyOnWriteArrayList<>();

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, stream, "us-east-1",
        event -> { invoked.add(event); return "{}"; },
        MappingOptions.defaults().withMaxRecordAge(Duration.ofSeconds(1)), destination::add)) {
      assertThat(mapping.awaitRecords(2, 60_000)).isTrue();
    }

    assertThat(invoked).isEmpty();
    assertThat(destination).extracting(FailedBatch::reason).containsOnly("record age exceeded");
    assertThat(destination.stream().mapToInt(FailedBatch::records).sum()).isEqualTo(2);
  }
}
