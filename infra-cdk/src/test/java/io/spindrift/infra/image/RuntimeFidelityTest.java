package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Runs the packaged handler (the layout the Dockerfile copies) under the real
 * aws-lambda-java-runtime-interface-client 2.9.0, started as the Lambda bootstrap starts it,
 * against a local Lambda Runtime API serving an AWS-shaped Kinesis event, and checks what the
 * runtime posts back: the handler string, the jar layout and the event/response serialization are
 * the ones that work in Lambda. The real handler runs the whole way, on the shared local stack.
 */
class RuntimeFidelityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:spindrift-fidelity";

  @Test
  void standInHandlerReportsBatchItemFailuresThroughTheRealRuntimeClient() throws Exception {
    ObjectNode event = (ObjectNode) JSON.readTree(Files.readString(ImageScripts.trainingEvent()));
    JsonNode failing = event.get("Records").get(1).get("kinesis");
    ((ObjectNode) failing).put("data", Base64.getEncoder().encodeToString("{\"fail\": true}".getBytes(StandardCharsets.UTF_8)));

    Invocation invocation = invoke(PreparedImage.standInTask(), JSON.writeValueAsString(event), Map.of(), Duration.ofMinutes(2));

    assertThat(invocation.result().kind()).as(invocation.log()).isEqualTo(LocalRuntimeApi.Kind.RESPONSE);
    assertThat(JSON.readTree(invocation.result().body())).isEqualTo(JSON.readTree(
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"" + failing.get("sequenceNumber").asText() + "\"}]}"));
    assertThat(invocation.log()).contains("stand-in handled 3 records in spindrift-fidelity");
  }

  /**
   * The real handler, on the shared local stack with only the endpoint settings and defaults
   * otherwise (job {@code PassThroughJob}, bucket {@code spindrift}, commit table
   * {@code spindrift_commits}): the first invocation commits the batch (head seq 1) with no failed
   * records, and the same event delivered again to the warm container commits nothing new.
   */
  @Test
  void realHandlerCommitsTheBatchOnceThroughTheRealRuntimeClient() throws Exception {
    Optional<Path> task = PreparedImage.realTask();
    assumeTrue(task.isPresent(), HandlerJar.SKIPPED);
    String app = "fidelity-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> env = new LinkedHashMap<>(LocalStackEnvironment.settings());
    env.put("SPINDRIFT_APP", app);
    env.put("SPINDRIFT_SHUFFLE_PARTITIONS", "2");
    LocalStackEnvironment.createBucket(LocalStackEnvironment.DEFAULT_BUCKET);
    String event = Files.readString(ImageScripts.trainingEvent());

    Invocation invocation = invoke(task.get(), List.of(event, event), env, Duration.ofMinutes(5));

    LocalRuntimeApi.Result first = invocation.results().get(0);
    LocalRuntimeApi.Result redelivered = invocation.results().get(1);
    System.out.printf("[fidelity] real KinesisHandler on the local stack answered %s: %s, then %s: %s%n",
        first.kind(), first.body(), redelivered.kind(), redelivered.body());
    for (LocalRuntimeApi.Result result : invocation.results()) {
      assertThat(result.kind()).as("%s%n%s", result.body(), invocation.log()).isEqualTo(LocalRuntimeApi.Kind.RESPONSE);
      assertThat(JSON.readTree(result.body()).get("batchItemFailures")).as(result.body()).isNotNull().isEmpty();
    }
    assertThat(LocalStackEnvironment.committedHead(LocalStackEnvironment.DEFAULT_COMMIT_TABLE, app))
        .as("one commit for the batch, none for its redelivery").hasValue(1);
    assertThat(invocation.log()).contains("\"app\":\"" + app + "\"", "\"duplicates\":3");
  }

  /** What the runtime posted, one result per event in order, and its output. */
  record Invocation(List<LocalRuntimeApi.Result> results, String log) {
    LocalRuntimeApi.Result result() {
      return results.get(0);
    }
  }

  private static Invocation invoke(Path task, String event, Map<String, String> env, Duration timeout) throws Exception {
    return invoke(task, List.of(event), env, timeout);
  }

  /** Starts one runtime (one container) and hands it {@code events} in turn. */
  private static Invocation invoke(Path task, List<String> events, Map<String, String> env, Duration timeout)
      throws Exception {
    Path log = Files.createTempFile("spindrift-fidelity", ".log");
    try (LocalRuntimeApi api = LocalRuntimeApi.start(0, events, FUNCTION_ARN)) {
      Process runtime = ImageScripts.startRuntime(task, ImageScripts.KINESIS_HANDLER, api.address(), "", env, log);
      List<LocalRuntimeApi.Result> results = new ArrayList<>();
      for (int i = 0; i < events.size(); i++) {
        Optional<LocalRuntimeApi.Result> result = api.awaitResult(timeout);
        if (result.isEmpty()) {
          break;
        }
        results.add(result.get());
      }
      ImageScripts.stop(runtime);
      String output = Files.readString(log);
      assertThat(results).as("%d of %d results within %s each; runtime output:%n%s", results.size(), events.size(),
          timeout, output).hasSameSizeAs(events);
      return new Invocation(results, output);
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
