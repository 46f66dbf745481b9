package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.config.Setting;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.fanout.S3BatchRun;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A batch run over S3 objects (docs/FANOUT.md): three objects of newline-delimited clickstream events, cut into
 * splits smaller than an object (records crossing split boundaries), give the same table in one invocation and
 * fanned out to in-process children, each committed once on the lane {@code s3:<bucket>/<prefix>}; a rerun,
 * in-process or through {@code spindrift batch}, adds nothing.
 */
class S3BatchRunTest {
  private static final int OBJECTS = 3;
  private static final int EVENTS_PER_OBJECT = 200;
  private static final long SPLIT_BYTES = 8_192;

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

  @Test
  void fannedOutRunEqualsOneInvocationAndARerunAddsNothing() {
    String single = TestPipeline.uniqueApp("s3batch_one");
    String fanned = TestPipeline.uniqueApp("s3batch_fan");
    SpindriftRuntime one = TestPipeline.runtime(single);
    SpindriftRuntime many = TestPipeline.runtime(fanned, Map.of(
        Setting.FANOUT.key(), "always",
        Setting.FANOUT_INVOKER.key(), "in-process",
        Setting.FANOUT_RECORDS_PER_CHILD.key(), "250"));
    String bucket = one.config().bucket();
    String prefix = "input/" + single + "/";
    String uri = "s3://" + bucket + "/" + prefix;
    try (S3Client s3 = AwsClients.s3(one.config())) {
      int malformed = writeInput(s3, bucket, prefix);
      int total = OBJECTS * EVENTS_PER_OBJECT;

      S3BatchRun.Outcome alone = S3BatchRun.run(one, s3, uri, SourceKind.KINESIS, SPLIT_BYTES);
      S3BatchRun.Outcome fannedOut = S3BatchRun.run(many, s3, uri, SourceKind.KINESIS, SPLIT_BYTES);

      assertThat(alone.objects()).isEqualTo(OBJECTS);
      assertThat(alone.splits()).isGreaterThan(OBJECTS);
      assertThat(alone.lane()).isEqualTo("s3:" + bucket + "/" + prefix);
      assertThat(alone.batch().records()).isEqualTo(total);
      assertThat(fannedOut.batch().records()).isEqualTo(total);
      assertThat(many.lastFanOut(SourceKind.KINESIS)).isNotNull();
      assertThat(many.lastFanOut(SourceKind.KINESIS).plan().splits()).isEqualTo(3);
      assertThat(TestPipeline.count(one, "it." + single)).isEqualTo(total - malformed);
      assertThat(TestPipeline.distinctEvents(one, "it." + single)).isEqualTo(total - malformed);
      assertThat(TestPipeline.count(one, "it." + single + "_rejects")).isEqualTo(malformed);
      assertThat(FanOutTest.table(many, "it." + fanned)).isEqualTo(FanOutTest.table(one, "it." + single));
      assertThat(TestPipeline.count(many, "it." + fanned + "_rejects")).isEqualTo(malformed);
      for (String app : List.of(single, fanned)) {
        List<CommitRecord> commits = commits(one, app);
        assertThat(commits).hasSize(1);
        assertThat(commits.get(0).lanes()).singleElement()
            .satisfies(lane -> assertThat(lane.records()).isEqualTo(total));
      }

      // reruns: in this runtime, and as a user would, through the CLI in a fresh runtime
      S3BatchRun.Outcome again = S3BatchRun.run(many, s3, uri, SourceKind.KINESIS, SPLIT_BYTES);
      ReplayFixture.CliRun cli = ReplayFixture.cli(single, "batch", "--input", uri, "--split-bytes",
          Long.toString(SPLIT_BYTES), "--json");

      assertThat(again.batch().seq()).isZero();
      assertThat(again.batch().duplicates()).isEqualTo(total);
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
}
