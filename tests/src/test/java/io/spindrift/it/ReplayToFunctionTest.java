package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.it.ReplayFixture.CliRun;
import io.spindrift.it.ReplayFixture.Produced;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import org.junit.jupiter.api.Test;

/**
 * {@code replay --function}: batches go to the deployed function through Lambda's Invoke API (here a local
 * stand-in forwarding to the Kinesis handler), split so that no event exceeds the payload cap, exactly once.
 */
class ReplayToFunctionTest {
  private static final int PAYLOAD_CAP = 100_000;

  @Test
  void replayThroughTheFunctionSplitsEventsUnderTheCapAndLandsEveryRecordOnce() throws Exception {
    String stream = TestPipeline.uniqueApp("replay_fn");
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    LocalSources.createStream(kinesis, stream, 2);
    Produced produced = ReplayFixture.produceKinesis(kinesis, stream, 1200, 91);
    SpindriftRuntime function = TestPipeline.runtime(stream);

    try (ReplayInvokeApiStandIn lambda = new ReplayInvokeApiStandIn("spindrift-fn", new InProcessInvoker<>(
        new KinesisHandler(function), KinesisEvent.class, StreamsEventResponse.class, 2))) {
      String[] args = {"replay", "--new-app", "--stream", stream, "--function", "spindrift-fn", "--lambda-endpoint",
          lambda.endpoint(), "--max-payload-bytes", Integer.toString(PAYLOAD_CAP), "--parallelism", "2", "--json"};
      CliRun run = ReplayFixture.cli(stream, args);
      int invocations = lambda.payloadSizes().size();
      CliRun again = ReplayFixture.cli(stream, append(args, "--restart"));

      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.json().get("read").asLong()).isEqualTo(produced.events());
      assertThat(invocations).as("1,200 records of ~450 bytes (base64 in the event) need 8+ events of 100 KB")
          .isGreaterThan(5);
      assertThat(lambda.payloadSizes()).allMatch(size -> size <= PAYLOAD_CAP);
      assertThat(again.exitCode()).as(again.err()).isZero();
    }

    String table = "it." + stream;
    assertThat(TestPipeline.count(function, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.distinctEvents(function, table)).isEqualTo(produced.valid());
    assertThat(TestPipeline.count(function, table + "_rejects")).isEqualTo(produced.malformed());
    assertThat(ReplayTest.committedRecords(stream)).isEqualTo(produced.events());
  }

  private static String[] append(String[] args, String more) {
    String[] out = java.util.Arrays.copyOf(args, args.length + 1);
    out[args.length] = more;
    return out;
  }
}
