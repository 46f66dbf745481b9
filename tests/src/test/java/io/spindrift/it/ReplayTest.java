package io.spindrift.it;

import io.spindrift.commit.DynamoDbCommitLog;
import static io.spindrift.it.ReplayFixture.REJECT_COLUMNS;
import static io.spindrift.it.ReplayFixture.cli;
import static io.spindrift.it.ReplayFixture.multisetDifference;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.fasterxml.jackson.databind.JsonNode;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.LaneRange;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.it.ReplayFixture.CliRun;
import io.spindrift.it.ReplayFixture.Produced;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The replay CLI against the live pipeline on the local stack: a replay into an empty table equals what the live
 * mapping produced; a replay over committed ranges, or beside live traffic, is exactly once (I2, I4).
 */
class ReplayTest {
  private static final String ROW_COLUMNS = "*";

  @Test
  void kinesisReplayOfAReshardedStreamIntoANewAppEqualsTheLiveTable() throws Exception {
    String stream = TestPipeline.uniqueApp("replay_ks");
    String live = stream + "_live";
    String replayed = stream + "_replay";
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    LocalSources.createStream(kinesis, stream, 2);
    Produced produced = ReplayFixture.produceKinesis(kinesis, stream, 1500, 31);
    ReplayFixture.splitFirstShard(kinesis, stream);
    produced = produced.plus(ReplayFixture.produceKinesis(kinesis, stream, 1500, 32));
    SpindriftRuntime liveRuntime = TestPipeline.runtime(live);
    ReplayFixture.liveKinesis(liveRuntime, kinesis, stream, produced);

    CliRun run = cli(replayed, "replay", "--new-app", "--stream", stream, "--parallelism", "2", "--batch-size", "400",
        "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode summary = run.json();
    assertThat(summary.get("lanes").asInt()).isEqualTo(4);
    assertThat(summary.get("read").asLong()).isEqualTo(produced.events());
    assertThat(summary.get("committed").asLong()).isEqualTo(produced.events());
    assertThat(summary.get("duplicates").asLong()).isZero();
    assertThat(summary.get("output").asLong()).isEqualTo(produced.valid());
    assertThat(summary.get("rejected").asLong()).isEqualTo(produced.malformed());
    String liveTable = "it." + live;
    String replayTable = "it." + replayed;
    assertThat(TestPipeline.count(liveRuntime, replayTable)).isEqualTo(produced.valid());
    assertThat(TestPipeline.count(liveRuntime, replayTable + "_rejects")).isEqualTo(produced.malformed());
    assertThat(TestPipeline.distinctEvents(liveRuntime, replayTable)).isEqualTo(produced.valid());
    assertThat(multisetDifference(liveRuntime, liveTable, replayTable, ROW_COLUMNS)).isZero();
    assertThat(multisetDifference(liveRuntime, liveTable + "_rejects", replayTable + "_rejects", REJECT_COLUMNS))
        .isZero();
    assertParentsCommittedBeforeChildren(replayed, kinesis, stream);
    assertThat(lanePositions(replayed)).isEqualTo(lanePositions(live));
    CliRun status = cli(replayed, "status", "--stream", stream, "--json");
    assertThat(status.exitCode()).as(status.err()).isZero();
    assertThat(status.json().get("lanes")).hasSize(4)
        .allSatisfy(lane -> assertThat(lane.get("lagRecords").asLong()).as(lane.toString()).isZero());
    assertThat(status.json().get("lanes")).filteredOn(lane -> lane.get("closed").asBoolean()).hasSize(1);
    assertThat(status.json().get("rejects").asLong()).isEqualTo(produced.malformed());
    assertThat(status.json().get("state").get("rows").asLong()).as("a stateless app keeps no state").isZero();
  }

  @Test
  void rebuildReplaysIntoANewAppAndSwapsTheTableInOneCatalogCommit() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_rb");
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 2);
    Produced produced = ReplayFixture.produceKafka(topic, 1200, 47);
    SpindriftRuntime liveRuntime = TestPipeline.runtime(topic);
    try (LocalEventSourceMapping mapping = ReplayFixture.liveKafka(liveRuntime, topic)) {
      ReplayFixture.awaitRows(liveRuntime, produced);
    }
    String table = "it." + topic;
    // a bug damaged the live table: the rebuild brings it back from the topic's history
    liveRuntime.spark().sql("DELETE FROM " + TestPipeline.qualified(liveRuntime, table) + " WHERE page = '/cart'");
    long damaged = TestPipeline.count(liveRuntime, table);
    assertThat(damaged).isLessThan(produced.valid());

    CliRun run = cli(topic, "replay", "--topic", topic, "--rebuild", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().get("committed").asLong()).isEqualTo(produced.events());
    assertThat(run.err()).contains("swapped it in").contains("Cut-over").contains("SPINDRIFT_APP=" + topic + "_rebuild_");
    assertThat(TestPipeline.count(liveRuntime, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.distinctEvents(liveRuntime, table)).isEqualTo(produced.valid());
    List<org.apache.iceberg.catalog.TableIdentifier> tables = liveRuntime.catalog()
        .listTables(org.apache.iceberg.catalog.Namespace.of("it"));
    assertThat(tables).map(Object::toString)
        .filteredOn(name -> name.startsWith(table + "_before_") && !name.endsWith("_rejects")).singleElement()
        .satisfies(backup -> assertThat(TestPipeline.count(liveRuntime, backup)).isEqualTo(damaged));
    assertThat(TestPipeline.count(liveRuntime, table + "_rejects")).isEqualTo(produced.malformed());
    assertThat(tables).map(Object::toString).noneMatch(name -> name.startsWith(table + "_rebuild_"));

    assertThat(cli(topic, "replay", "--topic", topic, "--rebuild", "--dry-run").err()).contains("--rebuild");
    CliRun delta = ReplayFixture.cliWith(Map.of("SPINDRIFT_SINK_FORMAT", "delta"), topic, "replay", "--topic", topic,
        "--rebuild");
    assertThat(delta.exitCode()).isEqualTo(2);
    assertThat(delta.err()).contains("--rebuild").contains("only an Iceberg table").contains("--new-app");
  }

  @Test
  void kafkaReplayThroughFanOutCommitsEveryRecordOnceAndAgainChangesNothing() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_fan");
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 1);
    Produced produced = ReplayFixture.produceKafka(topic, 1500, 43);

    CliRun run = cli(topic, "replay", "--new-app", "--topic", topic, "--batch-size", "500", "--fanout", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().get("committed").asLong()).isEqualTo(produced.events());
    assertThat(run.json().get("rejected").asLong()).isEqualTo(produced.malformed());
    assertThat(run.json().get("commits").asLong()).isEqualTo(3);
    try (SpindriftRuntime reader = TestPipeline.runtime(topic)) {
      assertThat(TestPipeline.count(reader, "it." + topic)).isEqualTo(produced.valid());
      assertThat(TestPipeline.distinctEvents(reader, "it." + topic)).isEqualTo(produced.valid());
      CliRun again = cli(topic, "replay", "--topic", topic, "--batch-size", "500", "--fanout", "--restart",
          "--json");
      assertThat(again.exitCode()).as(again.err()).isZero();
      assertThat(again.json().get("duplicates").asLong()).isEqualTo(produced.events());
      assertThat(TestPipeline.count(reader, "it." + topic)).isEqualTo(produced.valid());
    }
    CliRun refused = cli(topic, "replay", "--topic", topic, "--fanout", "--function", "f", "--json");
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.err()).contains("--fanout");
  }

  @Test
  void kafkaReplayIntoANewAppEqualsTheLiveTableAndAgainOverTheLiveAppChangesNothing() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_kf");
    String live = topic + "_live";
    String replayed = topic + "_replay";
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 3);
    Produced produced = ReplayFixture.produceKafka(topic, 3000, 41);
    SpindriftRuntime liveRuntime = TestPipeline.runtime(live);
    try (LocalEventSourceMapping mapping = ReplayFixture.liveKafka(liveRuntime, topic)) {
      ReplayFixture.awaitRows(liveRuntime, produced);
    }

    CliRun run = cli(replayed, "replay", "--new-app", "--topic", topic, "--parallelism", "3", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().get("committed").asLong()).isEqualTo(produced.events());
    assertThat(run.json().get("rejected").asLong()).isEqualTo(produced.malformed());
    String liveTable = "it." + live;
    String replayTable = "it." + replayed;
    assertThat(TestPipeline.count(liveRuntime, replayTable)).isEqualTo(produced.valid());
    assertThat(multisetDifference(liveRuntime, liveTable, replayTable, ROW_COLUMNS)).isZero();
    assertThat(multisetDifference(liveRuntime, liveTable + "_rejects", replayTable + "_rejects", REJECT_COLUMNS))
        .isZero();

    Map<String, String> positionsBefore = lanePositions(live);
    long snapshotsBefore = TestPipeline.snapshots(liveRuntime, liveTable).size();
    long headBefore = status(live).get("headSeq").asLong();
    CliRun again = cli(live, "replay", "--topic", topic, "--json");

    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.json().get("read").asLong()).isEqualTo(produced.events());
    assertThat(again.json().get("duplicates").asLong()).isEqualTo(produced.events());
    assertThat(again.json().get("committed").asLong()).isZero();
    assertThat(again.json().get("commits").asLong()).isZero();
    assertThat(TestPipeline.count(liveRuntime, liveTable)).isEqualTo(produced.valid());
    assertThat(TestPipeline.count(liveRuntime, liveTable + "_rejects")).isEqualTo(produced.malformed());
    assertThat(TestPipeline.snapshots(liveRuntime, liveTable)).hasSize((int) snapshotsBefore);
    assertThat(lanePositions(live)).isEqualTo(positionsBefore);
    JsonNode status = status(live);
    assertThat(status.get("headSeq").asLong()).isEqualTo(headBefore);
    assertThat(status.get("unpublishedCommits").asLong()).isZero();
    assertThat(status.get("rejects").asLong()).isEqualTo(produced.malformed());
    assertThat(status.get("lanes")).hasSize(3)
        .allSatisfy(lane -> assertThat(lane.get("lagRecords").asLong()).as(lane.toString()).isZero());
  }

  @Test
  void replayBesideLiveTrafficOnTheSameLanesIsExactlyOnce() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_both");
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 2);
    Produced produced = ReplayFixture.produceKafka(topic, 2000, 51);
    SpindriftRuntime liveRuntime = TestPipeline.runtime(topic);

    CliRun run;
    try (LocalEventSourceMapping mapping = ReplayFixture.liveKafka(liveRuntime, topic)) {
      CompletableFuture<CliRun> replay = CompletableFuture.supplyAsync(() ->
          cli(topic, "replay", "--new-app", "--topic", topic, "--parallelism", "2", "--batch-size", "200", "--json"));
      produced = produced.plus(ReplayFixture.produceKafka(topic, 1000, 52));
      run = replay.get();
      ReplayFixture.awaitRows(liveRuntime, produced);
    }

    assertThat(run.exitCode()).as(run.err()).isZero();
    String table = "it." + topic;
    assertThat(TestPipeline.count(liveRuntime, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.distinctEvents(liveRuntime, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.count(liveRuntime, table + "_rejects")).isEqualTo(produced.malformed());
    long committedInLog = committedRecords(topic);
    assertThat(committedInLog).as("records committed by live and replay together").isEqualTo(produced.events());
  }

  @Test
  void dryRunCountsTheRangeAndWritesNothing() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_dry");
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 2);
    Produced produced = ReplayFixture.produceKafka(topic, 500, 61);

    CliRun run = cli(topic, "replay", "--new-app", "--topic", topic, "--dry-run", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().get("records").asLong()).isEqualTo(produced.events());
    assertThat(run.json().get("toCommit").asLong()).isEqualTo(produced.events());
    assertThat(run.json().get("lanes").asInt()).isEqualTo(2);
    assertThat(run.json().get("bytes").asLong()).isPositive();
    assertThat(run.json().get("estimatedLambdaUsd").asDouble()).isPositive();
    SpindriftRuntime runtime = TestPipeline.runtime(topic);
    assertThat(runtime.catalog().tableExists(org.apache.iceberg.catalog.TableIdentifier.parse("it." + topic)))
        .isFalse();
    assertThat(commitLog(topic).read(topic, List.of()).headSeq()).isZero();
    assertThat(cli(topic, "status", "--topic", topic).exitCode()).as("an app that never committed").isEqualTo(2);
    assertThat(progressItems(topic)).isZero();
  }

  @Test
  void badArgumentsFailNamingTheArgument() throws Exception {
    String topic = TestPipeline.uniqueApp("replay_bad");
    LocalSources.createTopic(TestPipeline.stack().kafkaBootstrap(), topic, 1);

    CliRun unknownApp = cli(topic, "replay", "--app", "no_such_app", "--topic", topic);
    CliRun backwards = cli(topic, "replay", "--new-app", "--topic", topic, "--from", "2026-12-03T10:00:00Z",
        "--to", "2026-12-03T09:00:00Z");
    CliRun noStream = cli(topic, "replay", "--new-app", "--stream", "no_such_stream");
    CliRun noTopic = cli(topic, "replay", "--new-app", "--topic", "no_such_topic");
    CliRun badTime = cli(topic, "replay", "--new-app", "--topic", topic, "--from", "yesterday");
    CliRun badLane = cli(topic, "replay", "--new-app", "--topic", topic, "--from-position", "7=10");

    assertThat(unknownApp.exitCode()).isEqualTo(2);
    assertThat(unknownApp.err()).contains("--app").contains("no_such_app");
    assertThat(backwards.exitCode()).isEqualTo(2);
    assertThat(backwards.err()).contains("--to");
    assertThat(noStream.exitCode()).isEqualTo(2);
    assertThat(noStream.err()).contains("--stream").contains("no_such_stream");
    assertThat(noTopic.exitCode()).isEqualTo(2);
    assertThat(noTopic.err()).contains("--topic").contains("no_such_topic");
    assertThat(badTime.exitCode()).isEqualTo(2);
    assertThat(badTime.err()).contains("--from").contains("yesterday");
    assertThat(badLane.exitCode()).isEqualTo(2);
    assertThat(badLane.err()).contains("--from-position").contains("7");
    assertThat(progressItems(topic)).isZero();
  }

  static JsonNode status(String app) {
    CliRun run = cli(app, "status", "--topic", app.replace("_live", ""), "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    return run.json();
  }

  /** Every lane's committed position, through {@code spindrift status --json}'s source: the commit log. */
  static Map<String, String> lanePositions(String app) {
    CommitLog log = commitLog(app);
    long head = log.read(app, List.of()).headSeq();
    Map<String, String> positions = new HashMap<>();
    for (CommitRecord commit : log.commits(app, 0, head)) {
      commit.lanes().forEach(range -> positions.merge(range.lane(), range.last(),
          (a, b) -> LaneRange.compare(a, b) >= 0 ? a : b));
    }
    return positions;
  }

  static long committedRecords(String app) {
    CommitLog log = commitLog(app);
    long total = 0;
    for (CommitRecord commit : log.commits(app, 0, log.read(app, List.of()).headSeq())) {
      total += commit.counts().records();
    }
    return total;
  }

  private static void assertParentsCommittedBeforeChildren(String app, AmazonKinesis kinesis, String stream) {
    CommitLog log = commitLog(app);
    List<CommitRecord> commits = log.commits(app, 0, log.read(app, List.of()).headSeq());
    for (var shard : kinesis.describeStream(stream).getStreamDescription().getShards()) {
      if (shard.getParentShardId() == null) {
        continue;
      }
      String parent = "kinesis:" + stream + "/" + shard.getParentShardId();
      String child = "kinesis:" + stream + "/" + shard.getShardId();
      long lastParent = commits.stream().filter(c -> touches(c, parent)).mapToLong(CommitRecord::seq).max()
          .orElseThrow();
      long firstChild = commits.stream().filter(c -> touches(c, child)).mapToLong(CommitRecord::seq).min()
          .orElseThrow();
      assertThat(firstChild).as(child + " after its parent").isGreaterThan(lastParent);
    }
  }

  private static boolean touches(CommitRecord commit, String lane) {
    return commit.lanes().stream().anyMatch(range -> range.lane().equals(lane));
  }

  /** The commit log (its table created if this JVM's first test reads it before any runtime made it). */
  static CommitLog commitLog(String app) {
    DynamoDbCommitLog log = new DynamoDbCommitLog(AwsClients.dynamoDb(LocalPipeline.config(TestPipeline.stack(),
        Map.of("SPINDRIFT_APP", app))), "spindrift_commits");
    log.ensureTable();
    return log;
  }

  /** Progress items any replay of {@code app} left in the progress table (0 when there is no table). */
  static long progressItems(String app) {
    var dynamo = AwsClients.dynamoDb(LocalPipeline.config(TestPipeline.stack(), Map.of("SPINDRIFT_APP", app)));
    try {
      return dynamo.scan(b -> b.tableName("spindrift_replay")).items().stream()
          .filter(item -> item.get("pk").s().startsWith("REPLAY#" + app + "#")).count();
    } catch (software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException noTable) {
      return 0;
    }
  }
}
