package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The AppCDS archive made by prepare-image.sh is accepted by the JVM started as the Lambda
 * bootstrap starts it (through the exec wrapper, the archive named in JAVA_TOOL_OPTIONS), serves
 * the handler's classes, and shortens start-up. For the real handler the archive is trained on the
 * shared local stack and each measured start commits a batch, as a fresh app, so the figure is a
 * cold start: JVM start to the first committed batch's response. The ratio is printed, never
 * asserted.
 */
class AppCdsArchiveTest {
  private static final int RUNS = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void standInArchiveIsMappedAndServesTheHandlerClasses() throws Exception {
    checkArchive(PreparedImage.standInTask(), "stand-in handler, JVM start to first response",
        AppCdsArchiveTest::startStandIn, List.of("io.spindrift.handler.KinesisHandler"));
  }

  @Test
  void realHandlerArchiveServesTheClassesOfAFirstCommittedBatch() throws Exception {
    Optional<Path> task = PreparedImage.realTask();
    assumeTrue(task.isPresent(), HandlerJar.SKIPPED);
    assertThat(task.get().resolve("cds/archive.properties")).content().contains(PreparedImage.TRAINED_ON_COMMIT);
    System.out.printf("[image] real handler image contents: %d MiB in %s%n",
        PrepareImageScriptTest.sizeOf(task.get()) / (1024 * 1024), task.get());

    checkArchive(task.get(), "real handler, JVM start to first committed batch", AppCdsArchiveTest::startCommitting,
        List.of("io.spindrift.handler.KinesisHandler", "io.spindrift.commit.CommitLog",
            "org.apache.spark.sql.SparkSession", "org.apache.iceberg.aws.dynamodb.DynamoDbCatalog",
            "org.apache.iceberg.aws.s3.S3FileIO", "software.amazon.awssdk.services.dynamodb.DefaultDynamoDbClient"));
  }

  /** Starts a runtime on {@code task} with {@code javaToolOptions}, checks its first result, times it. */
  @FunctionalInterface
  private interface Start {
    StartUp run(Path task, String javaToolOptions) throws Exception;
  }

  private static void checkArchive(Path task, String label, Start start, List<String> archivedClasses)
      throws Exception {
    Path archive = task.resolve("cds/spindrift.jsa");
    String useArchive = "-XX:SharedArchiveFile=" + archive + " -Xshare:auto";

    StartUp logged = start.run(task, useArchive + " -Xlog:cds=info -Xlog:class+load=info");

    assertThat(logged.log()).contains("Opened archive " + archive)
        .doesNotContain("An error has occurred while processing the shared archive file");
    for (String archivedClass : archivedClasses) {
      assertThat(logged.log()).contains(archivedClass + " source: shared objects file (top)");
    }

    List<Long> without = new ArrayList<>();
    List<Long> with = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      without.add(start.run(task, "").millis());
      with.add(start.run(task, useArchive).millis());
    }
    long medianWithout = median(without);
    long medianWith = median(with);
    System.out.printf("[AppCDS] %s, median of %d: without archive %d ms %s,"
            + " with archive %d ms %s, ratio %.2f (archive %d KiB)%n",
        label, RUNS, medianWithout, without, medianWith, with, (double) medianWith / medianWithout,
        Files.size(archive) / 1024);
  }

  /** Time from starting the JVM to the runtime posting its first result, and the JVM's output. */
  record StartUp(long millis, LocalRuntimeApi.Result result, String log) {}

  private static StartUp startStandIn(Path task, String javaToolOptions) throws Exception {
    return startOnce(task, javaToolOptions, Map.of());
  }

  /**
   * The real handler as a new app on the shared local stack (the training run's settings, the
   * stack's endpoints): its first invocation must commit the batch.
   */
  private static StartUp startCommitting(Path task, String javaToolOptions) throws Exception {
    String app = "cds-measured-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> env = new LinkedHashMap<>(ImageScripts.trainingEnv());
    env.putAll(LocalStackEnvironment.settings());
    env.put("SPINDRIFT_APP", app);
    StartUp startUp = startOnce(task, javaToolOptions, env);
    LocalRuntimeApi.Result result = startUp.result();
    assertThat(result.kind()).as("%s%nruntime output:%n%s", result.body(), startUp.log()).isEqualTo(LocalRuntimeApi.Kind.RESPONSE);
    assertThat(JSON.readTree(result.body()).get("batchItemFailures")).as(result.body()).isNotNull().isEmpty();
    assertThat(LocalStackEnvironment.committedHead(env.get("SPINDRIFT_COMMIT_TABLE"), app)).as(app).hasValue(1);
    return startUp;
  }

  private static StartUp startOnce(Path task, String javaToolOptions, Map<String, String> env) throws Exception {
    String event = Files.readString(ImageScripts.trainingEvent());
    Path log = Files.createTempFile("spindrift-cds", ".log");
    try (LocalRuntimeApi api = LocalRuntimeApi.start(0, List.of(event), "arn:aws:lambda:us-east-1:000000000000:function:spindrift-cds")) {
      long start = System.nanoTime();
      Process runtime = ImageScripts.startRuntime(task, ImageScripts.KINESIS_HANDLER, api.address(), javaToolOptions, env, log);
      Optional<LocalRuntimeApi.Result> result = api.awaitResult(Duration.ofMinutes(3));
      ImageScripts.stop(runtime);
      String output = Files.readString(log);
      assertThat(result).as("runtime output:%n%s", output).isPresent();
      assertThat(result.get().handlerResolved()).as("%s%nruntime output:%n%s", result.get(), output).isTrue();
      return new StartUp((result.get().nanoTime() - start) / 1_000_000, result.get(), output);
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }
}
