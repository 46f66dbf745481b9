package io.spindrift.replay;

import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitSpill;
import io.spindrift.commit.LogSnapshot;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;

/**
 * The replay tool's one view of an app's commit log: read-only, through {@link CommitLog}'s public reads
 * ({@code read}, {@code commits}). A missing commit table reads as an app that never committed.
 */
final class AppLog {
  private final CommitLog log;
  private final String app;

  /** @param spill where commits too large for their item keep their stages */
  AppLog(DynamoDbClient dynamo, String table, String app, CommitSpill spill) {
    this.log = new DynamoDbCommitLog(dynamo, table, spill);
    this.app = app;
  }

  /** Head, publication watermark and the committed positions of {@code lanes} (consistent reads). */
  LogSnapshot snapshot(Collection<String> lanes) {
    try {
      return log.read(app, lanes);
    } catch (ResourceNotFoundException noTable) {
      return new LogSnapshot(0, 0, Map.of(), null);
    }
  }

  /** True when the app has committed at least once. */
  boolean exists() {
    return snapshot(List.of()).headSeq() > 0 || pending() > 0;
  }

  /** Lane commits made and not yet sequenced for publication (normally none for more than a moment). */
  int pending() {
    try {
      return log.pending(app).size();
    } catch (ResourceNotFoundException noTable) {
      return 0;
    }
  }

  /** What {@code status} shows beyond positions: the last commit's time and the rejects counted in commits. */
  Summary summary(long headSeq) {
    if (headSeq == 0) {
      return new Summary(null, 0, 0);
    }
    long rejected = 0;
    long output = 0;
    Long lastCommitMs = null;
    for (CommitRecord commit : log.commits(app, 0, headSeq)) {
      rejected += commit.counts().rejected();
      output += commit.counts().output();
      lastCommitMs = commit.committedAtMs();
    }
    return new Summary(lastCommitMs, rejected, output);
  }

  /** @param lastCommitMs the head commit's time (null: none) */
  record Summary(Long lastCommitMs, long rejected, long outputRows) {}
}
