package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.archive.BatchArchive;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.it.ReplayFixture.CliRun;
import io.spindrift.it.ReplayFixture.Produced;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code replay --archive}: the S3 archive of an app's input rebuilds the same table after the stream is gone.
 * The live app runs with SPINDRIFT_ARCHIVE=true: its runtime archives each batch's raw input before the commit.
 */
class ReplayFromArchiveTest {
  @Test
  void replayFromTheArchiveAfterTheStreamIsDeletedRebuildsTheSameTable() throws Exception {
    String stream = TestPipeline.uniqueApp("replay_arc");
    String live = stream + "_live";
    String rebuilt = stream + "_rebuilt";
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    LocalSources.createStream(kinesis, stream, 2);
    Produced produced = ReplayFixture.produceKinesis(kinesis, stream, 1500, 95);
    SpindriftRuntime liveRuntime = TestPipeline.runtime(live, Map.of("SPINDRIFT_ARCHIVE", "true"));
    LambdaInvoker handler = new InProcessInvoker<>(new KinesisHandler(liveRuntime), KinesisEvent.class,
        StreamsEventResponse.class, 2);
    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, stream, "us-east-1", handler,
        MappingOptions.defaults().withBatchSize(400).withBatchingWindow(Duration.ofMillis(50)), failed -> { })) {
      ReplayFixture.awaitRows(liveRuntime, produced);
    }
    BatchArchive archive = new BatchArchive(AwsClients.s3(liveRuntime.config()), liveRuntime.config().bucket());
    assertThat(archive.lanes(live)).as("the runtime archived both shards").hasSize(2);
    kinesis.deleteStream(stream);

    CliRun run = ReplayFixture.cli(rebuilt, "replay", "--new-app", "--archive", live, "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().get("read").asLong()).isEqualTo(produced.events());
    assertThat(run.json().get("committed").asLong()).isEqualTo(produced.events());
    String liveTable = "it." + live;
    String rebuiltTable = "it." + rebuilt;
    assertThat(TestPipeline.count(liveRuntime, rebuiltTable)).isEqualTo(produced.valid());
    assertThat(TestPipeline.count(liveRuntime, rebuiltTable + "_rejects")).isEqualTo(produced.malformed());
    assertThat(ReplayFixture.multisetDifference(liveRuntime, liveTable, rebuiltTable, "*")).isZero();
    assertThat(ReplayFixture.multisetDifference(liveRuntime, liveTable + "_rejects", rebuiltTable + "_rejects",
        ReplayFixture.REJECT_COLUMNS)).isZero();
    assertThat(ReplayTest.lanePositions(rebuilt)).isEqualTo(ReplayTest.lanePositions(live));
  }
}
