package io.spindrift.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.state.LocalState;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The bucket-commit contract of {@link CommitLog}, in memory and on DynamoDB Local: sequencing records on the head
 * the version each bucket's sequenced commits left it at, and a bucket commit sequenced in its own write moves head,
 * lanes and buckets together, or tells a moved head (the commit may still go pending) from a moved lane or bucket
 * (the batch must re-run), writing nothing either way.
 */
class BucketCommitLogTest {
  private static final String TABLE = "spindrift-bucket-log-tests";

  @Test
  void inMemoryLogKeepsTheBucketCommitContract() {
    assertBucketCommitContract(new InMemoryCommitLog(), "app-" + UUID.randomUUID());
  }

  @Test
  void dynamoDbLogKeepsTheBucketCommitContract() {
    DynamoDbCommitLog log = new DynamoDbCommitLog(LocalState.dynamo(), TABLE);
    log.ensureTable();
    assertBucketCommitContract(log, "app-" + UUID.randomUUID());
  }

  private static void assertBucketCommitContract(CommitLog log, String app) {
    CommitRecord pending = commit("a", "lane-a", null, "5", new BucketVersion(3, 0), "{\"wm\":5}");
    assertThat(log.tryCommitBuckets(app, pending)).isEqualTo(CommitResult.COMMITTED);
    assertThat(log.read(app, List.of()).bucketVersions()).as("pending: not on the head yet").isEmpty();
    assertThat(log.read(app, List.of()).bucketCommits()).isFalse();
    assertThat(log.sequence(app, 0, log.pending(app), "{\"wm\":5}")).isEqualTo(CommitResult.COMMITTED);
    assertThat(log.read(app, List.of()).bucketVersions()).containsExactly(java.util.Map.entry(3, 1L));
    assertThat(log.read(app, List.of()).bucketCommits()).as("the app is on bucket commits").isTrue();

    CommitRecord direct = commit("b", "lane-a", "5", "9", new BucketVersion(3, 1), "{\"wm\":9}").withSeq(2);
    assertThat(log.tryCommitBucketsSequenced(app, 1, direct, "{\"wm\":9}")).isEqualTo(CommitResult.COMMITTED);
    LogSnapshot head = log.read(app, List.of("lane-a"));
    assertThat(head.headSeq()).isEqualTo(2);
    assertThat(head.checkpoint()).isEqualTo("{\"wm\":9}");
    assertThat(head.lanePositions()).containsEntry("lane-a", "9");
    assertThat(head.bucketVersions()).containsEntry(3, 2L);
    assertThat(log.bucketVersions(app, 4)).containsEntry(3, 2L);
    assertThat(log.pending(app)).isEmpty();
    assertThat(log.commits(app, 1, 2)).singleElement().satisfies(c -> {
      assertThat(c.txnId()).isEqualTo("b");
      assertThat(c.seq()).isEqualTo(2);
      assertThat(c.buckets()).containsExactly(new BucketVersion(3, 1));
      assertThat(c.checkpoint()).isEqualTo("{\"wm\":9}");
    });

    // another lane moves the head on another bucket: ours is still valid, only the head stood in the way
    CommitRecord other = commit("c", "lane-b", null, "2", new BucketVersion(1, 0), "{\"wm\":2}").withSeq(3);
    assertThat(log.tryCommitBucketsSequenced(app, 2, other, null)).isEqualTo(CommitResult.COMMITTED);
    CommitRecord late = commit("d", "lane-a", "9", "12", new BucketVersion(3, 2), "{\"wm\":12}").withSeq(3);
    assertThat(log.tryCommitBucketsSequenced(app, 2, late, null)).isEqualTo(CommitResult.HEAD_MOVED);
    assertThat(log.read(app, List.of("lane-a")).lanePositions()).as("nothing written").containsEntry("lane-a", "9");

    // a bucket moved as well as the head: the batch must re-run
    CommitRecord stale = commit("e", "lane-c", null, "4", new BucketVersion(3, 1), null).withSeq(3);
    assertThat(log.tryCommitBucketsSequenced(app, 2, stale, null)).isEqualTo(CommitResult.CONFLICT);
    // a lane moved: the same
    CommitRecord duplicate = commit("f", "lane-a", "5", "9", new BucketVersion(2, 0), null).withSeq(4);
    assertThat(log.tryCommitBucketsSequenced(app, 3, duplicate, null)).isEqualTo(CommitResult.CONFLICT);
    assertThat(log.read(app, List.of()).headSeq()).isEqualTo(3);
    assertThat(log.bucketVersions(app, 4)).containsEntry(2, 0L).containsEntry(3, 2L);
  }

  private static CommitRecord commit(String txn, String lane, String from, String to, BucketVersion bucket,
      String checkpoint) {
    return new CommitRecord(0, txn, List.of(new LaneRange(lane, from, to, 1)),
        new CommitStages(null, null, null, null, List.of()), new CommitCounts(1, 0, 1, 0), 1_000)
        .withBuckets(List.of(bucket), checkpoint);
  }
}
