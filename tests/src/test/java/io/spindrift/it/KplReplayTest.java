package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.it.ReplayFixture.CliRun;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A replay of KPL-aggregated records, from the stream (the CLI's Kinesis source delivers aggregates as stored and
 * the local target de-aggregates them as the handler does) and from the S3 archive (which keeps each user record
 * with its sub-sequence number), rebuilds exactly the live app's table and rejects.
 */
class KplReplayTest {
  @RegisterExtension
  final TestStreams streams = new TestStreams();

  @Test
  void replayFromTheStreamAndFromTheArchiveRebuildTheLiveTableAndRejects() throws Exception {
    String stream = TestPipeline.uniqueApp("kplreplay");
    String live = stream + "_live";
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, stream, 2);
    KplAggregatedRecordsTest.Produced produced = KplAggregatedRecordsTest.produce(kinesis, stream, 57);
    SpindriftRuntime liveRuntime = TestPipeline.runtime(live, Map.of("SPINDRIFT_ARCHIVE", "true"));
    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, stream, "us-east-1",
        new InProcessInvoker<>(new KinesisHandler(liveRuntime), KinesisEvent.class, StreamsEventResponse.class, 2),
        MappingOptions.defaults().withBatchSize(8).withBatchingWindow(Duration.ofMillis(50)), failed -> { })) {
      assertThat(mapping.awaitRecords(produced.kinesisRecords(), ReplayFixture.TIMEOUT_MS)).isTrue();
    }
    String liveTable = "it." + live;
    long valid = produced.userRecords() - produced.malformed();
    assertThat(TestPipeline.count(liveRuntime, liveTable)).isEqualTo(valid);
    assertThat(TestPipeline.count(liveRuntime, liveTable + "_rejects")).isEqualTo(produced.malformed() + 1);

    for (String source : new String[] {"--stream", "--archive"}) {
      String rebuilt = stream + (source.equals("--stream") ? "_fromstream" : "_fromarchive");
      CliRun run = ReplayFixture.cli(rebuilt, "replay", "--new-app", source,
          source.equals("--stream") ? stream : live, "--batch-size", "7", "--json");

      assertThat(run.exitCode()).as(run.err()).isZero();
      String rebuiltTable = "it." + rebuilt;
      assertThat(TestPipeline.count(liveRuntime, rebuiltTable)).as(source).isEqualTo(valid);
      assertThat(TestPipeline.distinctEvents(liveRuntime, rebuiltTable)).as(source).isEqualTo(valid);
      assertThat(ReplayFixture.multisetDifference(liveRuntime, liveTable, rebuiltTable, "*")).as(source).isZero();
      assertThat(ReplayFixture.multisetDifference(liveRuntime, liveTable + "_rejects", rebuiltTable + "_rejects",
          ReplayFixture.REJECT_COLUMNS)).as(source).isZero();
      assertThat(ReplayTest.lanePositions(rebuilt)).as(source).isEqualTo(ReplayTest.lanePositions(live));
    }
    liveRuntime.close();
  }
}
