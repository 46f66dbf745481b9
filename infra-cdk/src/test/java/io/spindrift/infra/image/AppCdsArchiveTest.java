package io.spindrift.infra.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The AppCDS archive made by prepare-image.sh is accepted by the JVM started as the Lambda
 * bootstrap starts it (through the exec wrapper, the archive named in JAVA_TOOL_OPTIONS), serves
 * the handler's classes, and shortens start-up. The ratio is printed, never asserted.
 */
class AppCdsArchiveTest {
  private static final int RUNS = 3;

  @Test
  void standInArchiveIsMappedAndServesTheHandlerClasses() throws Exception {
    checkArchive(PreparedImage.standInTask(), "stand-in handler");
  }

  @Test
  void realHandlerArchiveIsMappedAndServesTheHandlerClasses() throws Exception {
    Optional<Path> task = PreparedImage.realTask();
    assumeTrue(task.isPresent(), "no real handler jar (stream-handler/target/spindrift-lambda.jar): see the [HandlerJar] line");
    checkArchive(task.get(), "real handler");
  }

  private static void checkArchive(Path task, String label) throws Exception {
    Path archive = task.resolve("cds/spindrift.jsa");
    String useArchive = "-XX:SharedArchiveFile=" + archive + " -Xshare:auto";

    StartUp logged = startOnce(task, useArchive + " -Xlog:cds=info -Xlog:class+load=info");

    assertThat(logged.log()).contains("Opened archive " + archive)
        .contains("io.spindrift.handler.KinesisHandler source: shared objects file (top)")
        .doesNotContain("An error has occurred while processing the shared archive file");

    List<Long> without = new ArrayList<>();
    List<Long> with = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      without.add(startOnce(task, "").millis());
      with.add(startOnce(task, useArchive).millis());
    }
    long medianWithout = median(without);
    long medianWith = median(with);
    System.out.printf("[AppCDS] %s: JVM start to first response, median of %d: without archive %d ms %s,"
            + " with archive %d ms %s, ratio %.2f (archive %d KiB)%n",
        label, RUNS, medianWithout, without, medianWith, with, (double) medianWith / medianWithout,
        Files.size(archive) / 1024);
  }

  /** Time from starting the JVM to the runtime posting its first result, and the JVM's output. */
  record StartUp(long millis, LocalRuntimeApi.Result result, String log) {}

  private static StartUp startOnce(Path task, String javaToolOptions) throws Exception {
    String event = Files.readString(ImageScripts.trainingEvent());
    Path log = Files.createTempFile("spindrift-cds", ".log");
    try (LocalRuntimeApi api = LocalRuntimeApi.start(0, List.of(event), "arn:aws:lambda:us-east-1:000000000000:function:spindrift-cds")) {
      long start = System.nanoTime();
      Process runtime = ImageScripts.startRuntime(task, ImageScripts.KINESIS_HANDLER, api.address(), javaToolOptions, Map.of(), log);
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
