package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindrift.examples.LocalSources;
import io.spindrift.it.ReplayFixture.CliRun;
import io.spindrift.it.ReplayFixture.Produced;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Replay throughput on the local stack (a measurement, not a test): produces a range of clickstream events into a
 * Kafka topic, replays it into a new app with the CLI in this JVM and prints one {@code REPLAY-BENCH} line with
 * records/s. Run with
 * {@code mvn -pl tests test -Dspindrift.bench=true -Dtest=ReplayThroughputBench -Dreplay.records=1000000}
 * (also {@code -Dreplay.partitions}, {@code -Dreplay.parallelism}, {@code -Dreplay.batchSize}, and
 * {@code -Dreplay.fanout=true} to run every batch on two warm local child JVMs).
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class ReplayThroughputBench {
  @Test
  void replayThroughput() {
    int records = Integer.getInteger("replay.records", 1_000_000);
    int partitions = Integer.getInteger("replay.partitions", 4);
    String parallelism = System.getProperty("replay.parallelism", "2");
    String batchSize = System.getProperty("replay.batchSize", "10000");
    String topic = TestPipeline.uniqueApp("replay_bench");
    try {
      LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, partitions);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    long produceStart = System.nanoTime();
    Produced produced = ReplayFixture.produceKafka(topic, records, 81);
    double produceSeconds = (System.nanoTime() - produceStart) / 1e9;

    boolean fanOut = Boolean.getBoolean("replay.fanout");
    List<String> arguments = new ArrayList<>(List.of("replay", "--new-app", "--topic", topic, "--parallelism",
        parallelism, "--batch-size", batchSize, "--no-progress", "--json"));
    if (fanOut) {
      arguments.add("--fanout");
    }
    CliRun run = ReplayFixture.cli(topic, arguments.toArray(String[]::new));

    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode summary = run.json();
    assertThat(summary.get("committed").asLong()).isEqualTo(produced.events());
    System.out.printf(Locale.ROOT, "REPLAY-BENCH fanout=%b records=%d partitions=%d parallelism=%s batchSize=%s "
            + "wallSeconds=%.1f recordsPerSecond=%d commits=%d bytes=%d (produced in %.1f s)%n",
        fanOut, records, partitions, parallelism, batchSize, summary.get("wallSeconds").asDouble(),
        summary.get("recordsPerSecond").asLong(), summary.get("commits").asLong(), summary.get("bytes").asLong(),
        produceSeconds);
  }
}
