package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.RuntimeHooks;
import io.spindrift.runtime.SpindriftRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * KPL-aggregated records put into a stream reach the table as one row per user record, exactly once, through the
 * local event-source mapping (which delivers them still aggregated, as Lambda does); a corrupt aggregate goes to
 * rejects whole, and a batch retried after its commit adds nothing.
 */
class KplAggregatedRecordsTest {
  @RegisterExtension
  final TestStreams streams = new TestStreams();
  private static final long TIMEOUT_MS = 240_000;
  private static final int AGGREGATES = 40;
  private static final int PER_AGGREGATE = 25;

  /** What {@link #produce} put into a stream. */
  record Produced(int userRecords, int malformed, int kinesisRecords, byte[] corrupt) {}

  /**
   * Puts {@value #AGGREGATES} aggregates of {@value #PER_AGGREGATE} clickstream events (2% malformed), one corrupt
   * aggregate among them (its MD5 trailer altered) and one plain record into {@code stream}.
   */
  static Produced produce(AmazonKinesis kinesis, String stream, long seed) {
    ClickstreamGenerator generator = new ClickstreamGenerator(seed, 0.02, System.currentTimeMillis());
    List<String> outerKeys = new ArrayList<>();
    List<byte[]> outer = new ArrayList<>();
    int malformed = 0;
    for (int a = 0; a < AGGREGATES; a++) {
      List<String> keys = new ArrayList<>();
      List<byte[]> payloads = new ArrayList<>();
      for (int i = 0; i < PER_AGGREGATE; i++) {
        ClickstreamGenerator.Event event = generator.next();
        keys.add(event.key());
        payloads.add(event.json());
        malformed += event.malformed() ? 1 : 0;
      }
      outerKeys.add(keys.get(0));
      outer.add(KplRecords.aggregate(keys, payloads));
    }
    byte[] corrupt = KplRecords.aggregate(List.of("c1", "c2"), List.of(generator.next().json(), generator.next().json()));
    corrupt[corrupt.length - 3] ^= 0x5a;
    outerKeys.add(AGGREGATES / 2, "c1");
    outer.add(AGGREGATES / 2, corrupt);
    outerKeys.add("plain");
    outer.add(generator.next().json());
    LocalSources.putRecords(kinesis, stream, outerKeys, outer);
    return new Produced(AGGREGATES * PER_AGGREGATE + 1, malformed, outer.size(), corrupt);
  }

  @Test
  void everyUserRecordLandsOnceAndACorruptAggregateGoesToRejects() throws Exception {
    String app = TestPipeline.uniqueApp("kpl");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 2);
    Produced produced = produce(kinesis, app, 31);
    int malformed = produced.malformed();
    byte[] corrupt = produced.corrupt();
    RuntimeHooks.faults(runtime).arm(FaultPoint.AFTER_COMMIT, 1);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, "us-east-1",
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 2),
        MappingOptions.defaults().withBatchSize(8).withBatchingWindow(Duration.ofMillis(50)), failures::add)) {
      assertThat(mapping.awaitRecords(produced.kinesisRecords(), TIMEOUT_MS)).as("every Kinesis record delivered").isTrue();
      assertThat(mapping.functionErrors()).as("the batch that crashed after its commit").isEqualTo(1);
    }

    int users = produced.userRecords();
    assertThat(failures).isEmpty();
    assertThat(malformed).isPositive();
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(users - malformed);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(users - malformed);
    String rejectsTable = TestPipeline.qualified(runtime, "it." + app + "_rejects");
    List<Row> rejects = TestPipeline.rows(runtime, "SELECT lane, position, error, payload FROM " + rejectsTable);
    assertThat(rejects).hasSize(malformed + 1);
    assertThat(rejects).extracting(r -> r.getString(1)).doesNotHaveDuplicates();
    List<Row> corrupted = rejects.stream().filter(r -> r.getString(2).contains("corrupt KPL aggregate")).toList();
    assertThat(corrupted).singleElement().satisfies(row -> {
      assertThat(row.getString(0)).startsWith("kinesis:" + app + "/shardId-");
      assertThat(row.getString(1)).matches("\\d+");
      assertThat(row.getString(2)).contains("MD5", "position " + row.getString(1));
      assertThat((byte[]) row.get(3)).isEqualTo(corrupt);
    });
    assertThat(rejects).filteredOn(r -> !r.getString(2).contains("corrupt KPL aggregate"))
        .extracting(r -> r.getString(1)).allMatch(position -> position.matches("\\d+/\\d+"));
    assertThat(TestPipeline.rows(runtime, "SELECT count(*) FROM " + rejectsTable + " r"
        + " WHERE r.position LIKE '%/%'").get(0).getLong(0)).isEqualTo(malformed);
  }
}
