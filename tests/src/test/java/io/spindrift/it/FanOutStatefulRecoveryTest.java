package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.fanout.ChildInvoker;
import io.spindrift.fanout.ChildTask;
import io.spindrift.fanout.FanOutMicroBatch;
import io.spindrift.fanout.InProcessInvoker;
import io.spindrift.fanout.S3BatchRun;
import io.spindrift.protocol.BatchFailedException;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A stateful job's fan-out paths that the other fan-out tests do not reach: a batch run over S3 objects whose
 * partition maps read their own input splits (the reduce path fed from S3; {@code dropDuplicates}), and a parent
 * that dies between the map level and the combiners of a two-level stateful exchange and is retried in a new
 * container (a windowed count). Each time the table and the state rows equal those of the single-invocation path,
 * and the totals are exact. Children run on threads of this JVM, in one child runtime per test (as warm containers).
 */
class FanOutStatefulRecoveryTest {
  private static final String CHILD_THREAD = "spindrift-child";

  private static Map<String, String> settings(String app, String job, String fanOut) {
    Map<String, String> settings = new HashMap<>();
    settings.put("SPINDRIFT_APP", app);
    settings.put("SPINDRIFT_JOB", job);
    settings.put("SPINDRIFT_SINK_TABLE", "it." + app);
    settings.put(Setting.FANOUT.key(), fanOut);
    return settings;
  }

  private static SpindriftConfig config(Map<String, String> settings) {
    return LocalPipeline.config(TestPipeline.stack(), settings);
  }

  private static List<CommitRecord> commits(SpindriftRuntime runtime, String app) {
    return new DynamoDbCommitLog(AwsClients.dynamoDb(runtime.config()), runtime.config().get(Setting.COMMIT_TABLE))
        .commits(app, 0, 100);
  }

  /** Newline-delimited clickstream events in three objects under {@code prefix}; returns how many events. */
  private static int writeInput(S3Client s3, String bucket, String prefix) {
    ClickstreamGenerator generator = new ClickstreamGenerator(77, 0.02, 1_795_700_000_000L);
    int events = 0;
    for (int object = 0; object < 3; object++) {
      ByteArrayOutputStream lines = new ByteArrayOutputStream();
      for (int i = 0; i < 250; i++) {
        lines.writeBytes(generator.next().json());
        lines.write('\n');
        events++;
      }
      String key = prefix + "part-" + object + ".json";
      s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(lines.toByteArray()));
    }
    return events;
  }

  @Test
  void aStatefulBatchRunFannedOutOverS3SplitsGivesTheSingleInvocationTableAndState() {
    String single = TestPipeline.uniqueApp("s3state_one");
    String fanned = TestPipeline.uniqueApp("s3state_fan");
    // dropDuplicates: every input's first event is a row at once (the generator's events span too little event time
    // for a windowed count to close a window here)
    String job = FanOutTest.FirstSeen.class.getName();
    SpindriftRuntime child = SpindriftRuntime.create(config(settings(fanned, job, "off")));
    InProcessInvoker children = new InProcessInvoker(child::runChild, 2);
    SpindriftRuntime one = SpindriftRuntime.create(config(settings(single, job, "off")));
    SpindriftRuntime many = SpindriftRuntime.create(config(settings(fanned, job, "always")), children);
    String bucket = one.config().bucket();
    String prefix = "input/" + single + "/";
    String uri = "s3://" + bucket + "/" + prefix;
    long splitBytes = 16_384;
    long perCommit = 2 * splitBytes;
    try (S3Client s3 = AwsClients.s3(one.config())) {
      int total = writeInput(s3, bucket, prefix);

      S3BatchRun.Outcome alone = S3BatchRun.run(one, s3, uri, SourceKind.KINESIS, splitBytes, perCommit);
      AwsRequestLog.start();
      S3BatchRun.Outcome fannedOut;
      List<AwsRequestLog.Request> requests;
      try {
        fannedOut = S3BatchRun.run(many, s3, uri, SourceKind.KINESIS, splitBytes, perCommit);
      } finally {
        requests = AwsRequestLog.stop();
      }

      assertThat(alone.committed()).isGreaterThanOrEqualTo(3);
      assertThat(fannedOut.committed()).isEqualTo(alone.committed());
      assertThat(fannedOut.records()).isEqualTo(total).isEqualTo(alone.records());
      FanOutMicroBatch.FanOutReport report = many.lastFanOut(SourceKind.KINESIS);
      assertThat(report.plan().stateful()).isTrue();
      assertThat(report.plan().reducers()).isEqualTo(Math.min(report.plan().splits(), 4));
      assertThat(report.reducedRecords()).isPositive();
      assertThat(many.fanOutTotals().batches()).isEqualTo(fannedOut.committed());
      // every chunk but the last has 2 splits: 2 partition maps and 2 reducers each
      assertThat(many.fanOutTotals().childInvocations()).isGreaterThanOrEqualTo(4L * (fannedOut.committed() - 1) + 2);
      assertThat(many.fanOutTotals().records()).isEqualTo(total);
      // the partition maps read the input (one ranged GET per split): the parent read none of it
      assertThat(requests.stream().filter(r -> r.operation().equals("GetObject") && r.target().contains(prefix))
          .map(AwsRequestLog.Request::thread)).hasSizeGreaterThanOrEqualTo(alone.splits()).containsOnly(CHILD_THREAD);

      List<String> expected = FanOutTest.table(one, "it." + single);
      assertThat(expected).isNotEmpty();
      assertThat(FanOutTest.table(many, "it." + fanned)).isEqualTo(expected);
      List<String> state = StateRows.of(one, single);
      assertThat(state).isNotEmpty();
      assertThat(StateRows.of(many, fanned)).isEqualTo(state);
      List<CommitRecord> commits = commits(many, fanned);
      assertThat(commits).hasSize(alone.committed());
      assertThat(commits.stream().mapToLong(commit -> commit.counts().records()).sum()).isEqualTo(total);
      assertThat(commits.stream().mapToLong(commit -> commit.counts().output()).sum())
          .isEqualTo(commits(one, single).stream().mapToLong(commit -> commit.counts().output()).sum());

      // a rerun commits nothing and leaves table and state as they are
      assertThat(S3BatchRun.run(many, s3, uri, SourceKind.KINESIS, splitBytes, perCommit).committed()).isZero();
      assertThat(FanOutTest.table(many, "it." + fanned)).isEqualTo(expected);
      assertThat(StateRows.of(many, fanned)).isEqualTo(state);
    } finally {
      one.close();
      many.close();
      children.close();
      child.close();
    }
  }

  @Test
  void aParentThatDiesAfterTheMapLevelOfATwoLevelStatefulExchangeIsRetriedExactlyOnce() {
    String single = TestPipeline.uniqueApp("twolevel_crash_one");
    String app = TestPipeline.uniqueApp("twolevel_crash");
    String job = PageViewCounts.class.getName();
    Map<String, String> parent = settings(app, job, "always");
    parent.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), "100");
    parent.put(Setting.FANOUT_TWO_LEVEL_CHILDREN.key(), "2");
    // no straggler re-issue: the test counts invocations
    parent.put(Setting.FANOUT_STRAGGLER_FACTOR.key(), "1000");
    SpindriftRuntime child = SpindriftRuntime.create(config(settings(app, job, "off")));
    InProcessInvoker children = new InProcessInvoker(child::runChild, 2);
    AtomicBoolean dieAtCombiners = new AtomicBoolean(false);
    List<List<SourceRecord>> batches = List.of(FanOutTest.events("views", 0, 300, false),
        FanOutTest.events("views", 300, 400, false), FanOutTest.events("views", 700, 300, false));
    try (SpindriftRuntime oracle = TestPipeline.runtime(single, job)) {
      for (List<SourceRecord> batch : batches) {
        oracle.process(new Batch(SourceKind.KINESIS, batch));
      }
      try (SpindriftRuntime first = SpindriftRuntime.create(config(parent),
          new DyingParent(children, dieAtCombiners))) {
        first.process(new Batch(SourceKind.KINESIS, batches.get(0)));
        dieAtCombiners.set(true);
        // the parent dies as it starts the combiners: every partition map finished and wrote its object
        assertThatThrownBy(() -> first.process(new Batch(SourceKind.KINESIS, batches.get(1))))
            .isInstanceOf(BatchFailedException.class).hasStackTraceContaining("dies after the map level");
        FanOutMicroBatch.FanOutReport died = first.lastFanOut(SourceKind.KINESIS);
        assertThat(died.records()).as("the first batch's report: the second never finished").isEqualTo(300);
      }
      dieAtCombiners.set(false);
      try (SpindriftRuntime retry = SpindriftRuntime.create(config(parent), children)) {
        AwsRequestLog.start();
        BatchOutcome outcome;
        List<AwsRequestLog.Request> requests;
        try {
          outcome = retry.process(new Batch(SourceKind.KINESIS, batches.get(1)));
        } finally {
          requests = AwsRequestLog.stop();
        }
        FanOutMicroBatch.FanOutReport report = retry.lastFanOut(SourceKind.KINESIS);
        int maps = report.plan().splits();
        assertThat(report.plan().combiners()).isPositive();
        assertThat(report.reused()).as("the maps' results, found by key").isEqualTo(maps);
        assertThat(report.invocations()).isEqualTo(report.plan().combiners() + report.plan().reducers());
        assertThat(requests.stream().filter(r -> r.operation().equals("PutObject")
            && r.target().contains("/map-"))).as("no map object written again").isEmpty();
        assertThat(outcome.seq()).isEqualTo(2);
        assertThat(outcome.records()).isEqualTo(400);

        retry.process(new Batch(SourceKind.KINESIS, batches.get(2)));
        assertThat(retry.process(new Batch(SourceKind.KINESIS, batches.get(1))).duplicates()).isEqualTo(400);

        List<CommitRecord> commits = commits(retry, app);
        assertThat(commits).hasSize(3);
        assertThat(commits.stream().mapToLong(commit -> commit.counts().records()).sum()).isEqualTo(1000);
        List<String> expected = FanOutTest.table(oracle, "it." + single);
        assertThat(expected).isNotEmpty();
        assertThat(FanOutTest.table(retry, "it." + app)).isEqualTo(expected);
        assertThat(StateRows.of(retry, app)).isEqualTo(StateRows.of(oracle, single));
        // exact totals: every view counted once over all windows
        assertThat(TestPipeline.rows(retry, "SELECT sum(views) FROM " + TestPipeline.qualified(retry, "it." + app))
            .get(0).getLong(0)).isEqualTo(TestPipeline.rows(oracle, "SELECT sum(views) FROM "
            + TestPipeline.qualified(oracle, "it." + single)).get(0).getLong(0));
      }
    } finally {
      children.close();
      child.close();
    }
  }

  /** The parent's invoker, which dies (throws on the parent's thread) when the first combiner is started. */
  private record DyingParent(ChildInvoker delegate, AtomicBoolean armed) implements ChildInvoker {
    @Override
    public CompletableFuture<String> invoke(ChildTask task) {
      if (armed.get() && task.role() == ChildTask.Role.COMBINE) {
        throw new IllegalStateException("The parent dies after the map level, starting " + task.describe());
      }
      return delegate.invoke(task);
    }

    @Override
    public int concurrency() {
      return delegate.concurrency();
    }
    // not closed with a parent: the next parent reuses the warm children
  }
}
