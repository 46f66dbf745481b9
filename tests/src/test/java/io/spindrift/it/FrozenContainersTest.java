package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.ContainerSpec;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.FrozenContainers;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The local mapping invoking containers that are child JVMs frozen (SIGSTOP) between invocations, as Lambda freezes
 * its execution environments: a deferred publish stops mid-flight when its container is frozen, resumes when the
 * container is invoked again, and meets other containers' roll-forwards of the same commits in between.
 */
class FrozenContainersTest {
  @RegisterExtension
  final TestStreams streams = new TestStreams();
  private static final long TIMEOUT_MS = 300_000;
  private static final int EVENTS = 1200;

  @Test
  void deferredPublishesFrozenBetweenInvocationsLeaveTheTableExact() throws Exception {
    String app = TestPipeline.uniqueApp("frozen");
    SpindriftRuntime runtime = TestPipeline.runtime(app, Map.of("SPINDRIFT_PUBLISH", "deferred"));
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 2);
    int malformed = LocalMappingEndToEndTest.produceKinesis(kinesis, app, EVENTS, 41);
    List<String> events = new CopyOnWriteArrayList<>();
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    try (FrozenContainers containers = new FrozenContainers(spec(runtime), 2)) {
      LambdaInvoker recorded = eventJson -> {
        events.add(eventJson);
        return containers.invoke(eventJson);
      };
      try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, "us-east-1", recorded,
          MappingOptions.defaults().withBatchSize(100).withBatchingWindow(Duration.ofMillis(50)), failures::add)) {
        assertThat(mapping.awaitRecords(EVENTS, TIMEOUT_MS)).as("all records delivered").isTrue();
        assertThat(mapping.functionErrors()).isZero();
      }
      assertThat(containers.containersStarted()).isEqualTo(2);
      assertThat(containers.freezes()).isEqualTo(events.size());
      // the first batch redelivered to each container in turn: each resumes its frozen publisher, and the first
      // rolls forward whatever the other container's frozen publisher left
      assertThat(containers.invoke(events.get(0))).contains("\"batchItemFailures\":[]");
      assertThat(containers.invoke(events.get(0))).contains("\"batchItemFailures\":[]");
    }

    assertThat(failures).isEmpty();
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(EVENTS - malformed);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(EVENTS - malformed);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isEqualTo(malformed);
    assertThat(TestPipeline.snapshots(runtime, "it." + app)).extracting(s -> s.summary().get(CommitTag.SEQ))
        .doesNotHaveDuplicates();
  }

  /** Containers run the real handler, configured from the environment like Lambda's, with this runtime's settings. */
  private static ContainerSpec spec(SpindriftRuntime runtime) {
    Map<String, String> environment = new HashMap<>(runtime.config().asMap());
    environment.put("AWS_ACCESS_KEY_ID", "local");
    environment.put("AWS_SECRET_ACCESS_KEY", "local");
    environment.put("SPARK_LOCAL_IP", "127.0.0.1");
    List<String> jvmOptions = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseSerialGC"));
    for (String option : System.getProperty("spindrift.spark.opens", "").split(" ")) {
      if (!option.isBlank()) {
        jvmOptions.add(option);
      }
    }
    return ContainerSpec.of(KinesisHandler.class.getName(), KinesisEvent.class, StreamsEventResponse.class,
        environment, jvmOptions);
  }
}
