package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.fanout.ChildTask;
import io.spindrift.fanout.FanOutMicroBatch;
import io.spindrift.fanout.LambdaInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * {@link LambdaInvoker} against a stand-in for Lambda's Invoke API ({@link LambdaInvokeApiStandIn}; no Lambda is
 * served here) whose function is the child-executor handler: a stateful batch fans out through it and matches single
 * invocations, with throttled invokes (HTTP 429 TooManyRequestsException) retried by the invoker's back-off, and
 * the invoker's rate limiter spaces starts. The SDK's own retries are off, so every retry seen is the invoker's.
 */
class FanOutLambdaInvokerTest {
  private static final String FUNCTION = "spindrift-child";

  private static LambdaClient client(LambdaInvokeApiStandIn standIn) {
    return LambdaClient.builder()
        .endpointOverride(URI.create(standIn.endpoint()))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .httpClient(UrlConnectionHttpClient.builder().build())
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  @Test
  void aStatefulBatchFansOutThroughLambdasInvokeApiWithThrottledInvokesRetried() throws Exception {
    String app = TestPipeline.uniqueApp("fanlambda");
    String single = TestPipeline.uniqueApp("fanlambda_oracle");
    Map<String, String> settings = new HashMap<>();
    settings.put("SPINDRIFT_APP", app);
    settings.put("SPINDRIFT_JOB", PageViewCounts.class.getName());
    settings.put("SPINDRIFT_SINK_TABLE", "it." + app);
    settings.put(Setting.FANOUT.key(), "always");
    settings.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), "100");
    SpindriftConfig config = LocalPipeline.config(TestPipeline.stack(), settings);
    try (SpindriftRuntime child = SpindriftRuntime.create(config.with(Map.of(Setting.FANOUT.key(), "off")));
        LambdaInvokeApiStandIn standIn = new LambdaInvokeApiStandIn(FUNCTION,
            LambdaInvokeApiStandIn.childExecutor(child));
        LambdaClient lambda = client(standIn);
        SpindriftRuntime parent = SpindriftRuntime.create(config, new LambdaInvoker(lambda, FUNCTION, 4, 50));
        SpindriftRuntime oracle = TestPipeline.runtime(single, PageViewCounts.class.getName())) {
      long first = 0;
      int invocations = 0;
      for (int batch = 0; batch < 3; batch++) {
        List<SourceRecord> records = FanOutTest.events("views", first, 300, false);
        first += 300;
        standIn.throttleNext(3);
        oracle.process(new Batch(SourceKind.KINESIS, records));
        parent.process(new Batch(SourceKind.KINESIS, records));
        FanOutMicroBatch.FanOutReport report = parent.lastFanOut(SourceKind.KINESIS);
        assertThat(report.records()).isEqualTo(300);
        assertThat(report.invocations()).as("throttles are retried inside one invocation")
            .isEqualTo(report.plan().children());
        invocations += report.invocations();
      }
      assertThat(standIn.throttled()).isEqualTo(9);
      assertThat(standIn.arrivals()).hasSize(invocations + 9);
      List<String> expected = FanOutTest.table(oracle, "it." + single);
      assertThat(expected).isNotEmpty();
      assertThat(FanOutTest.table(parent, "it." + app)).isEqualTo(expected);
      assertThat(StateRows.of(parent, app)).isEqualTo(StateRows.of(oracle, single));
    }
  }

  private static ChildTask task(int index) {
    return new ChildTask("app", SourceKind.KINESIS, "x", ChildTask.Role.MAP, index, "s" + index, "in", 0, 1,
        List.of(), 2, -1, null, 0, List.of(), null, null);
  }

  @Test
  void theRateLimiterSpacesStartsAndThrottledInvokesBackOffUntilTheyRun() throws Exception {
    try (LambdaInvokeApiStandIn standIn = new LambdaInvokeApiStandIn(FUNCTION, payload -> "echo:" + payload.length());
        LambdaClient lambda = client(standIn);
        LambdaInvoker invoker = new LambdaInvoker(lambda, FUNCTION, 4, 20)) {
      // a first call outside the count: the SDK client's set-up and the first connection would bunch arrivals
      invoker.invoke(task(99)).get();
      int before = standIn.arrivals().size();
      standIn.throttleNext(6);
      List<CompletableFuture<String>> answers = new ArrayList<>();
      List<ChildTask> tasks = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        tasks.add(task(i));
        answers.add(invoker.invoke(tasks.get(i)));
      }
      for (int i = 0; i < 10; i++) {
        assertThat(answers.get(i).get()).isEqualTo("echo:" + tasks.get(i).toJson().length());
      }
      assertThat(standIn.throttled()).isEqualTo(6);
      List<Long> arrivals = standIn.arrivals().subList(before, standIn.arrivals().size());
      assertThat(arrivals).hasSize(16);
      // at most 20 starts per second: 16 starts take 15 intervals of 50 ms at the invoker (one allowed for the
      // requests' own varying latency between the invoker and the stand-in)
      long spread = java.util.Collections.max(arrivals) - java.util.Collections.min(arrivals);
      assertThat(spread).isGreaterThanOrEqualTo(14 * 50_000_000L);
    }
  }
}
