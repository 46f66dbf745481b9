package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.examples.LocalSources;
import io.spindrift.it.ReplayFixture.CliRun;
import io.spindrift.it.ReplayFixture.Produced;
import io.spindrift.replay.SpindriftCli;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A replay whose process is killed with SIGKILL mid-run resumes from its progress items and ends exact. */
class ReplayResumeTest {
  @Test
  void sigkilledReplayResumesFromItsProgressAndEndsExact() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_kill");
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 2);
    Produced produced = ReplayFixture.produceKafka(topic, 3000, 71);
    String[] args = {"replay", "--new-app", "--topic", topic, "--batch-size", "100", "--rate-limit", "150",
        "--parallelism", "2", "--json"};

    Process child = startCli(topic, args);
    ReplayFixture.await(() -> Math.min(ReplayTest.committedRecords(topic), 400), 400);
    child.destroyForcibly();
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
    long committedBeforeResume = ReplayTest.committedRecords(topic);
    assertThat(committedBeforeResume).isLessThan(produced.events());
    assertThat(ReplayTest.progressItems(topic)).as("progress items left by the killed run").isEqualTo(2);

    CliRun resumed = ReplayFixture.cli(topic, args[0], args[1], args[2], args[3], args[4], args[5], args[8], args[9],
        args[10]);

    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    SpindriftRuntime runtime = TestPipeline.runtime(topic);
    String table = "it." + topic;
    assertThat(TestPipeline.count(runtime, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.distinctEvents(runtime, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.count(runtime, table + "_rejects")).isEqualTo(produced.malformed());
    assertThat(ReplayTest.committedRecords(topic)).isEqualTo(produced.events());
    assertThat(resumed.json().get("committed").asLong()).as("the summary counts both runs")
        .isBetween(committedBeforeResume, (long) produced.events());
  }

  /** The CLI in a JVM of its own, as a user runs it, with the app's environment; output goes to a file. */
  private static Process startCli(String app, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx2g");
    for (String option : System.getProperty("spindrift.spark.opens", "").split(" ")) {
      if (!option.isBlank()) {
        command.add(option);
      }
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), SpindriftCli.class.getName()));
    command.addAll(List.of(args));
    File log = Files.createTempFile("spindrift-replay-child", ".log").toFile();
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log);
    builder.environment().putAll(ReplayFixture.environment(app));
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return builder.start();
  }
}
