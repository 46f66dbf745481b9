package io.spindrift.examples;

import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitCounts;
import io.spindrift.commit.CommitRecord;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.AwsClients;
import java.util.List;
import java.util.function.ToLongFunction;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * What an app's commit log says it committed, summed over every commit: the record counts each commit carries
 * (DESIGN §5, I6). The exactly-once check of a local run compares them with what was produced and with the tables.
 *
 * @param commits how many commits the app has
 * @param records input records committed (after de-duplication against lane positions)
 * @param output rows staged for the table
 * @param rejected rows staged for the rejects table
 * @param duplicates records dropped as already committed (redeliveries)
 */
record CommitTotals(long commits, long records, long output, long rejected, long duplicates) {

  /** Reads every commit of {@code config}'s app (consistent reads). */
  static CommitTotals read(SpindriftConfig config) {
    try (DynamoDbClient dynamo = AwsClients.dynamoDb(config);
        software.amazon.awssdk.services.s3.S3Client s3 = AwsClients.s3(config)) {
      CommitLog log = new DynamoDbCommitLog(dynamo, config.get(Setting.COMMIT_TABLE),
          new io.spindrift.commit.S3CommitSpill(s3, config.bucket()));
      long head = log.read(config.app(), List.of()).headSeq();
      List<CommitRecord> commits = log.commits(config.app(), 0, head);
      return new CommitTotals(commits.size(), sum(commits, CommitCounts::records), sum(commits, CommitCounts::output),
          sum(commits, CommitCounts::rejected), sum(commits, CommitCounts::duplicates));
    }
  }

  private static long sum(List<CommitRecord> commits, ToLongFunction<CommitCounts> count) {
    return commits.stream().mapToLong(c -> count.applyAsLong(c.counts())).sum();
  }
}
