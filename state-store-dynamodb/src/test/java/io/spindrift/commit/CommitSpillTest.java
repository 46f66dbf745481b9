package io.spindrift.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.state.LocalState;
import io.spindrift.state.StateBucket;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;

/** Issue 14, defect 9: a commit whose stages exceed DynamoDB's 400 KB item limit is committed through S3. */
class CommitSpillTest {
  private static final String TABLE = "spindrift_commit_spill_tests";

  @BeforeAll
  static void table() {
    new DynamoDbCommitLog(LocalState.dynamo(), TABLE).ensureTable();
  }

  private static DynamoDbCommitLog spillingLog() {
    return new DynamoDbCommitLog(LocalState.dynamo(), TABLE, new S3CommitSpill(LocalState.s3(), LocalState.SPILL_BUCKET));
  }

  /** A Delta-like append stage document of about {@code kb} KB. */
  private static String stageDocument(int kb) {
    StringBuilder doc = new StringBuilder("{\"adds\":[");
    for (int i = 0; doc.length() < kb * 1024; i++) {
      doc.append(i == 0 ? "" : ",").append("{\"path\":\"part-").append(UUID.randomUUID())
          .append(".parquet\",\"size\":").append(1000 + i).append(",\"stats\":\"{\\\"numRecords\\\":7}\"}");
    }
    return doc.append("]}").toString();
  }

  private static String inlineDelta(int kb) {
    byte[] bytes = new byte[kb * 1024 * 3 / 4];
    new Random(7).nextBytes(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** Over 400 KB of stages: a 250 KB table stage document, a small rejects stage and a 200 KB inline state delta. */
  private static CommitRecord largeCommit(long seq) {
    CommitStages stages = new CommitStages(stageDocument(250), "{\"adds\":[]}", inlineDelta(200), null,
        List.of(new StateBucket(0, "default", 0), new StateBucket(0, "default", 1)));
    return new CommitRecord(seq, UUID.randomUUID().toString(),
        List.of(new LaneRange("shardId-000000000000", null, "49590000000000000000000000000000000000000000000000000099",
            100)), stages, new CommitCounts(100, 0, 100, 0), 1_795_000_000_000L);
  }

  private static Map<String, AttributeValue> item(String app, long seq) {
    return LocalState.dynamo().getItem(b -> b.tableName(TABLE).consistentRead(true).key(Map.of(
        "pk", DynamoDbCommitLog.s(DynamoDbCommitLog.pk(app)),
        "sk", DynamoDbCommitLog.s(DynamoDbCommitLog.commitSk(seq))))).item();
  }

  @Test
  void stagesOverTheItemLimitAreSpilledToS3AndReadBackEqual() {
    String app = "spill-" + UUID.randomUUID();
    CommitRecord commit = largeCommit(1);
    assertThat(CommitCodec.inlineSize(commit.stages())).as("inline, the item would exceed 400 KB")
        .isGreaterThan(400 * 1024);

    assertThat(spillingLog().tryCommit(app, commit, null)).isEqualTo(CommitResult.COMMITTED);

    assertThat(spillingLog().commits(app, 0, 1)).containsExactly(commit);
    Map<String, AttributeValue> item = item(app, 1);
    assertThat(item).doesNotContainKey("stages");
    assertThat(item.get("stagesObject").s()).isEqualTo("s3://" + LocalState.SPILL_BUCKET + "/" + app + "/stage/"
        + commit.txnId() + "/commit-stages.json");
    assertThat(spillingLog().read(app, List.of("shardId-000000000000")).lanePositions())
        .containsEntry("shardId-000000000000", commit.lanes().get(0).last());
  }

  /** Without the spill, the same item is refused: this is the failure the spill removes. */
  @Test
  void theSameCommitInlineIsRefusedByDynamoDb() {
    String app = "spill-" + UUID.randomUUID();
    CommitRecord commit = largeCommit(1);
    Map<String, AttributeValue> inline = CommitCodec.encode(DynamoDbCommitLog.pk(app),
        DynamoDbCommitLog.commitSk(1), commit, null);

    assertThatThrownBy(() -> LocalState.dynamo().putItem(b -> b.tableName(TABLE).item(inline)))
        .isInstanceOf(DynamoDbException.class).hasMessageContaining("size");
    assertThatThrownBy(() -> new DynamoDbCommitLog(LocalState.dynamo(), TABLE).tryCommit(app, commit, null))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("CommitSpill");
    assertThat(new DynamoDbCommitLog(LocalState.dynamo(), TABLE).read(app, List.of()).headSeq())
        .as("nothing committed").isZero();
  }

  @Test
  void aRebasedCommitOfTheSameTransactionReusesItsSpilledStages() {
    String app = "spill-" + UUID.randomUUID();
    DynamoDbCommitLog log = spillingLog();
    CommitRecord first = largeCommit(1);
    CommitRecord other = new CommitRecord(1, UUID.randomUUID().toString(),
        List.of(new LaneRange("shardId-000000000001", null, "5", 5)), CommitStages.NONE, CommitCounts.NONE, 1L);
    assertThat(log.tryCommit(app, other, null)).isEqualTo(CommitResult.COMMITTED);

    assertThat(log.tryCommit(app, first, null)).as("the head moved").isEqualTo(CommitResult.CONFLICT);
    assertThat(log.tryCommit(app, first.withSeq(2), null)).isEqualTo(CommitResult.COMMITTED);

    assertThat(log.commits(app, 0, 2)).containsExactly(other, first.withSeq(2));
  }

  @Test
  void smallStagesStayInlineAndReadWithoutASpill() {
    String app = "spill-" + UUID.randomUUID();
    CommitRecord small = new CommitRecord(1, UUID.randomUUID().toString(),
        List.of(new LaneRange("shardId-000000000000", null, "9", 10)),
        new CommitStages("{\"adds\":[]}", null, null, "s3://b/a/stage/t/state-deltas.bin",
            List.of(new StateBucket(0, "default", 3))), new CommitCounts(10, 0, 10, 0), 2L);

    assertThat(spillingLog().tryCommit(app, small, null)).isEqualTo(CommitResult.COMMITTED);

    assertThat(item(app, 1)).containsKey("stages").doesNotContainKey("stagesObject");
    assertThat(new DynamoDbCommitLog(LocalState.dynamo(), TABLE).commits(app, 0, 1)).containsExactly(small);
  }

  @Test
  void aSpilledCommitReadWithoutASpillFailsRatherThanLosingItsStages() {
    String app = "spill-" + UUID.randomUUID();
    assertThat(spillingLog().tryCommit(app, largeCommit(1), null)).isEqualTo(CommitResult.COMMITTED);

    assertThatThrownBy(() -> new DynamoDbCommitLog(LocalState.dynamo(), TABLE).commits(app, 0, 1))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("spilled");
  }

  @Test
  void anOldItemWithInlineStagesReadsUnchanged() {
    String app = "spill-" + UUID.randomUUID();
    Map<String, AttributeValue> old = new HashMap<>(Map.of(
        "pk", DynamoDbCommitLog.s(DynamoDbCommitLog.pk(app)), "sk", DynamoDbCommitLog.s(DynamoDbCommitLog.commitSk(1)),
        "seq", DynamoDbCommitLog.n(1), "txnId", DynamoDbCommitLog.s("t-old"), "committedAt", DynamoDbCommitLog.n(3),
        "lanes", AttributeValue.fromL(List.of(AttributeValue.fromM(Map.of("lane", DynamoDbCommitLog.s("l"),
            "last", DynamoDbCommitLog.s("4"), "records", DynamoDbCommitLog.n(4))))),
        "stages", AttributeValue.fromM(Map.of("table", DynamoDbCommitLog.s("{\"adds\":[1]}"),
            "state-buckets", DynamoDbCommitLog.s("0/default/1"))),
        "counts", AttributeValue.fromM(Map.of("records", DynamoDbCommitLog.n(4)))));
    LocalState.dynamo().putItem(b -> b.tableName(TABLE).item(old));

    assertThat(spillingLog().commits(app, 0, 1)).containsExactly(new CommitRecord(1, "t-old",
        List.of(new LaneRange("l", null, "4", 4)),
        new CommitStages("{\"adds\":[1]}", null, null, null, List.of(StateBucket.parse("0/default/1"))),
        new CommitCounts(4, 0, 0, 0), 3));
  }
}
