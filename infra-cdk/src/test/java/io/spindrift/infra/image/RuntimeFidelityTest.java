package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Runs the packaged handler (the layout the Dockerfile copies) under the real
 * aws-lambda-java-runtime-interface-client 2.9.0, started as the Lambda bootstrap starts it,
 * against a local Lambda Runtime API serving an AWS-shaped Kinesis event, and checks what the
 * runtime posts back: the handler string, the jar layout and the event/response serialization are
 * the ones that work in Lambda.
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
   * The real handler. Without {@code -Dspindrift.fidelity.env=FILE} (KEY=VALUE settings pointing at
   * a running local stack) it checks that the runtime finds and initialises the handler and that
   * the invocation completes; with it, that the batch is committed with no failures.
   */
  @Test
  void realHandlerIsFoundAndAnswersThroughTheRealRuntimeClient() throws Exception {
    Optional<Path> task = PreparedImage.realTask();
    assumeTrue(task.isPresent(), "no real handler jar (stream-handler/target/spindrift-lambda.jar): see the [HandlerJar] line");
    Optional<Path> stackEnv = Optional.ofNullable(System.getProperty("spindrift.fidelity.env")).map(Path::of);

    Invocation invocation = invoke(task.get(), Files.readString(ImageScripts.trainingEvent()),
        stackEnv.map(RuntimeFidelityTest::readEnv).orElseGet(RuntimeFidelityTest::unreachableAws), Duration.ofMinutes(5));

    LocalRuntimeApi.Result result = invocation.result();
    System.out.printf("[fidelity] real KinesisHandler answered %s%s: %s%n", result.kind(),
        result.errorType().map(t -> " (" + t + ")").orElse(""), result.body().substring(0, Math.min(500, result.body().length())));
    assertThat(result.handlerResolved()).as("the runtime could not find or initialise the handler: %s%n%s",
        result, invocation.log()).isTrue();
    if (stackEnv.isPresent()) {
      assertThat(result.kind()).as(invocation.log()).isEqualTo(LocalRuntimeApi.Kind.RESPONSE);
      assertThat(JSON.readTree(result.body()).get("batchItemFailures")).as(result.body()).isEmpty();
    } else if (result.kind() == LocalRuntimeApi.Kind.RESPONSE) {
      assertThat(JSON.readTree(result.body()).has("batchItemFailures")).as(result.body()).isTrue();
    }
  }

  record Invocation(LocalRuntimeApi.Result result, String log) {}

  private static Invocation invoke(Path task, String event, Map<String, String> env, Duration timeout) throws Exception {
    Path log = Files.createTempFile("spindrift-fidelity", ".log");
    try (LocalRuntimeApi api = LocalRuntimeApi.start(0, List.of(event), FUNCTION_ARN)) {
      Process runtime = ImageScripts.startRuntime(task, ImageScripts.KINESIS_HANDLER, api.address(), "", env, log);
      Optional<LocalRuntimeApi.Result> result = api.awaitResult(timeout);
      ImageScripts.stop(runtime);
      String output = Files.readString(log);
      assertThat(result).as("no result within %s; runtime output:%n%s", timeout, output).isPresent();
      return new Invocation(result.get(), output);
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** Settings that make every AWS call fail fast instead of reaching for the internet. */
  private static Map<String, String> unreachableAws() {
    return readEnv(ImageScripts.imageDir().resolve("training/training.env"));
  }

  private static Map<String, String> readEnv(Path file) {
    try {
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : Files.readAllLines(file)) {
        int eq = line.indexOf('=');
        if (!line.isBlank() && !line.startsWith("#") && eq > 0) {
          env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
      }
      return env;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
