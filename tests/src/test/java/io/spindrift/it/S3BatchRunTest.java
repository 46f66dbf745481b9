package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.LaneRange;
import io.spindrift.config.Setting;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.fanout.ChildInvoker;
import io.spindrift.fanout.ChildTask;
import io.spindrift.fanout.InProcessInvoker;
import io.spindrift.fanout.S3BatchRun;
import io.spindrift.protocol.BatchFailedException;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A batch run over S3 objects (docs/FANOUT.md): three objects of newline-delimited clickstream events, cut into
 * splits smaller than an object (records crossing split boundaries), give the same table in one invocation and
 * fanned out to in-process children that read their splits from the input objects (the parent GETs none), each
 * committed once on the lane {@code s3:<bucket>/<prefix>}; a rerun, in-process or through {@code spindrift batch},
 * adds nothing. A run cut into several commits gives the same table, and one whose later chunk fails resumes after
 * its last commit, exactly once.
 */
class S3BatchRunTest {
  private static final int OBJECTS = 3;
  private static final int EVENTS_PER_OBJECT = 200;
  private static final long SPLIT_BYTES = 8_192;
  /** The threads of the in-process invoker, on which children run. */
  private static final String CHILD_THREAD = "spindrift-child";

  /** Writes the input under {@code prefix}; returns how many events are malformed (rejected). */
  private static int writeInput(S3Client s3, String bucket, String prefix) {
    ClickstreamGenerator generator = new ClickstreamGenerator(51, 0.02, 1_795_600_000_000L);
    int malformed = 0;
    for (int object = 0; object < OBJECTS; object++) {
      ByteArrayOutputStream lines = new ByteArrayOutputStream();
      for (int i = 0; i < EVENTS_PER_OBJECT; i++) {
        ClickstreamGenerator.Event event = generator.next();
        malformed += event.malformed() ? 1 : 0;
        lines.writeBytes(event.json());
        lines.write(i % 50 == 7 ? '\r' : '\n');
        if (i % 50 == 7) {
          lines.write('\n');
        }
      }
      String key = prefix + "part-" + object + ".json";
      s3.putObject(b -> b.bucket(bucket).key(key),
          RequestBody.fromBytes(lines.toByteArray()));
    }
    return malformed;
  }

  private static List<CommitRecord> commits(SpindriftRuntime runtime, String app) {
    return new DynamoDbCommitLog(AwsClients.dynamoDb(runtime.config()), runtime.config().get(Setting.COMMIT_TABLE))
        .commits(app, 0, 100);
  }

  /** A run's result and the threads that made its GETs of the input objects. */
  private record Recorded<T>(T value, List<String> inputReaders) {}

  /** Runs {@code run}, recording which threads GET objects under {@code prefix}. */
  private static <T> Recorded<T> recordingInputReads(String prefix, Supplier<T> run) {
    AwsRequestLog.start();
    T value;
    List<AwsRequestLog.Request> requests;
    try {
      value = run.get();
    } finally {
      requests = AwsRequestLog.stop();
    }
    return new Recorded<>(value, requests.stream()
        .filter(r -> r.operation().equals("GetObject") && r.target().startsWith(prefix))
        .map(AwsRequestLog.Request::thread).toList());
  }

  @Test
  void fannedOutRunEqualsOneInvocationChildrenReadTheInputAndARerunAddsNothing() {
    String single = TestPipeline.uniqueApp("s3batch_one");
    String fanned = TestPipeline.uniqueApp("s3batch_fan");
    SpindriftRuntime one = TestPipeline.runtime(single);
    SpindriftRuntime many = TestPipeline.runtime(fanned, Map.of(
        Setting.FANOUT.key(), "always",
        Setting.FANOUT_INVOKER.key(), "in-process"));
    String bucket = one.config().bucket();
    String prefix = "input/" + single + "/";
    String uri = "s3://" + bucket + "/" + prefix;
    try (S3Client s3 = AwsClients.s3(one.config())) {
      int malformed = writeInput(s3, bucket, prefix);
      int total = OBJECTS * EVENTS_PER_OBJECT;

      Recorded<S3BatchRun.Outcome> alone = recordingInputReads(prefix,
          () -> S3BatchRun.run(one, s3, uri, SourceKind.KINESIS, SPLIT_BYTES));
      Recorded<S3BatchRun.Outcome> fannedOut = recordingInputReads(prefix,
          () -> S3BatchRun.run(many, s3, uri, SourceKind.KINESIS, SPLIT_BYTES));

      int splits = alone.value().splits();
      assertThat(alone.value().objects()).isEqualTo(OBJECTS);
      assertThat(splits).isGreaterThan(OBJECTS);
      assertThat(alone.value().lane()).isEqualTo("s3:" + bucket + "/" + prefix);
      assertThat(alone.value().records()).isEqualTo(total);
      assertThat(alone.inputReaders()).hasSize(splits).doesNotContain(CHILD_THREAD);
      // the parent handed the children the manifest: every GET of the input was a child's (one per split, and one
      // more per re-issued straggler)
      assertThat(fannedOut.value().records()).isEqualTo(total);
      assertThat(fannedOut.value().duplicates()).isZero();
      assertThat(fannedOut.inputReaders()).hasSizeGreaterThanOrEqualTo(splits).containsOnly(CHILD_THREAD);
      assertThat(many.lastFanOut(SourceKind.KINESIS)).isNotNull();
      assertThat(many.lastFanOut(SourceKind.KINESIS).plan().splits()).isEqualTo(splits);
      assertThat(many.lastFanOut(SourceKind.KINESIS).records()).isEqualTo(total);
      assertThat(TestPipeline.count(one, "it." + single)).isEqualTo(total - malformed);
      assertThat(TestPipeline.distinctEvents(one, "it." + single)).isEqualTo(total - malformed);
      assertThat(TestPipeline.count(one, "it." + single + "_rejects")).isEqualTo(malformed);
      assertThat(FanOutTest.table(many, "it." + fanned)).isEqualTo(FanOutTest.table(one, "it." + single));
      assertThat(TestPipeline.count(many, "it." + fanned + "_rejects")).isEqualTo(malformed);
      assertThat(commits(one, single)).singleElement().satisfies(commit -> assertThat(commit.lanes())
          .singleElement().satisfies(lane -> assertThat(lane.records()).isEqualTo(total)));
      // the fanned-out commit counts the records its children read (the parent never saw them), as one invocation's
      for (String app : List.of(single, fanned)) {
        CommitRecord commit = commits(one, app).get(0);
        assertThat(commit.lanes()).singleElement().satisfies(lane -> assertThat(lane.records()).isEqualTo(total));
        assertThat(commit.counts().records()).as("records of %s", app).isEqualTo(total);
        assertThat(commit.counts().output()).isEqualTo(TestPipeline.count(one, "it." + app)).isEqualTo(
            total - malformed);
        assertThat(commit.counts().rejected()).isEqualTo(TestPipeline.count(one, "it." + app + "_rejects"))
            .isEqualTo(malformed);
      }

      // reruns: in this runtime, and as a user would, through the CLI in a fresh runtime
      Recorded<S3BatchRun.Outcome> again = recordingInputReads(prefix,
          () -> S3BatchRun.run(many, s3, uri, SourceKind.KINESIS, SPLIT_BYTES));
      ReplayFixture.CliRun cli = ReplayFixture.cli(single, "batch", "--input", uri, "--split-bytes",
          Long.toString(SPLIT_BYTES), "--json");

      assertThat(again.value().seq()).isZero();
      assertThat(again.value().duplicates()).isEqualTo(splits);
      assertThat(again.inputReaders()).isEmpty();
      assertThat(cli.exitCode()).as(cli.err()).isZero();
      assertThat(cli.json().get("seq").asLong()).isZero();
      assertThat(cli.json().get("duplicates").asInt()).isEqualTo(total);
      assertThat(TestPipeline.count(one, "it." + single)).isEqualTo(total - malformed);
      assertThat(TestPipeline.count(many, "it." + fanned)).isEqualTo(total - malformed);
      assertThat(commits(one, single)).hasSize(1);
      assertThat(commits(one, fanned)).hasSize(1);
    } finally {
      one.close();
      many.close();
    }
  }

  @Test
  void runInSeveralCommitsResumesAfterAFailedChunkExactlyOnce() {
    String app = TestPipeline.uniqueApp("s3batch_chunks");
    Map<String, String> settings = Map.of("SPINDRIFT_APP", app, "SPINDRIFT_JOB", Clickstream.class.getName(),
        "SPINDRIFT_SINK_TABLE", "it." + app);
    SpindriftRuntime child = SpindriftRuntime.create(LocalPipeline.config(TestPipeline.stack(),
        with(settings, Setting.FANOUT.key(), "off")));
    // while armed, every attempt of a child reading the last object's splits fails: that chunk fails, after commits
    AtomicBoolean failLastObject = new AtomicBoolean(true);
    ChildInvoker children = new FailingInvoker(new InProcessInvoker(child::runChild, 2), failLastObject);
    Map<String, String> parent = with(settings, Setting.FANOUT.key(), "always");
    SpindriftRuntime first = SpindriftRuntime.create(LocalPipeline.config(TestPipeline.stack(), parent), children);
    String bucket = first.config().bucket();
    String prefix = "input/" + app + "/";
    String uri = "s3://" + bucket + "/" + prefix;
    long perCommit = 2 * SPLIT_BYTES;
    try (S3Client s3 = AwsClients.s3(first.config())) {
      int malformed = writeInput(s3, bucket, prefix);
      int total = OBJECTS * EVENTS_PER_OBJECT;

      Recorded<RuntimeException> failed = recordingInputReads(prefix, () -> {
        try {
          S3BatchRun.run(first, s3, uri, SourceKind.KINESIS, SPLIT_BYTES, perCommit);
          return null;
        } catch (RuntimeException e) {
          return e;
        }
      });
      List<CommitRecord> before = commits(first, app);
      long rowsBefore = TestPipeline.count(first, "it." + app);
      failLastObject.set(false);
      Recorded<S3BatchRun.Outcome> resumed;
      S3BatchRun.Outcome third;
      long rows;
      long distinct;
      long rejects;
      try (SpindriftRuntime second = SpindriftRuntime.create(LocalPipeline.config(TestPipeline.stack(), parent),
          children)) {
        resumed = recordingInputReads(prefix,
            () -> S3BatchRun.run(second, s3, uri, SourceKind.KINESIS, SPLIT_BYTES, perCommit));
        third = S3BatchRun.run(second, s3, uri, SourceKind.KINESIS, SPLIT_BYTES, perCommit);
        rows = TestPipeline.count(second, "it." + app);
        distinct = TestPipeline.distinctEvents(second, "it." + app);
        rejects = TestPipeline.count(second, "it." + app + "_rejects");
      }

      assertThat(failed.value()).isInstanceOf(BatchFailedException.class);
      assertThat(before).isNotEmpty();
      assertThat(rowsBefore).isPositive().isLessThan(total - malformed);
      S3BatchRun.Outcome outcome = resumed.value();
      assertThat(outcome.commits()).hasSizeGreaterThanOrEqualTo(3);
      // the rerun skipped the chunks the failed run committed and committed the rest, one commit each
      assertThat(outcome.commits().size() - outcome.committed()).isEqualTo(before.size());
      assertThat(rows).isEqualTo(total - malformed);
      assertThat(distinct).isEqualTo(total - malformed);
      assertThat(rejects).isEqualTo(malformed);
      assertThat(third.seq()).isZero();
      assertThat(third.committed()).isZero();
      List<CommitRecord> commits = commits(first, app);
      assertThat(commits).hasSize(outcome.commits().size());
      // every commit counts the records its children read: together the input's lines, the table and the rejects
      assertThat(commits.stream().mapToLong(commit -> commit.counts().records()).sum()).isEqualTo(total);
      assertThat(commits.stream().mapToLong(commit -> commit.lanes().get(0).records()).sum()).isEqualTo(total);
      assertThat(commits.stream().mapToLong(commit -> commit.counts().output()).sum()).isEqualTo(rows);
      assertThat(commits.stream().mapToLong(commit -> commit.counts().rejected()).sum()).isEqualTo(rejects);
      // the resumed run's outcomes count records too: its commits and the failed run's cover the input once
      assertThat(outcome.commits().stream().filter(batch -> batch.seq() > 0).mapToLong(batch -> batch.records())
          .sum() + before.stream().mapToLong(commit -> commit.counts().records()).sum()).isEqualTo(total);
      String previous = null;
      for (CommitRecord commit : commits) {
        LaneRange range = commit.lanes().get(0);
        assertThat(range.previous()).as("commit %s starts where the one before ended", commit.seq())
            .isEqualTo(previous);
        previous = range.last();
      }
      assertThat(failed.inputReaders()).isNotEmpty().containsOnly(CHILD_THREAD);
      assertThat(resumed.inputReaders()).isNotEmpty().containsOnly(CHILD_THREAD);
    } finally {
      first.close();
      children.close();
      child.close();
    }
  }

  private static Map<String, String> with(Map<String, String> settings, String key, String value) {
    Map<String, String> out = new HashMap<>(settings);
    out.put(key, value);
    return out;
  }

  /** Fails every task that reads a split of the last input object while {@code armed}. */
  private record FailingInvoker(ChildInvoker delegate, AtomicBoolean armed) implements ChildInvoker {
    @Override
    public CompletableFuture<String> invoke(ChildTask task) {
      if (armed.get() && task.splits().stream().anyMatch(split -> split.objectIndex() == OBJECTS - 1)) {
        return CompletableFuture.failedFuture(new IllegalStateException("injected failure of " + task.describe()));
      }
      return delegate.invoke(task);
    }

    @Override
    public int concurrency() {
      return delegate.concurrency();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
