package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec.Format;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.Row;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A Debezium connector's change stream of an {@code orders} table, end to end: envelopes (with and without Kafka
 * Connect's schema wrapping) and the tombstones Debezium writes after a delete are produced into a real Kafka topic
 * on the local stack; the local event-source mapping invokes the real MSK handler with each batch (a second container
 * runs the last); the job is one line ({@code ctx.unwrapDebezium}). The upsert table ends with exactly the rows the
 * source table holds, and events that are not changes Spindrift can apply are rejects with lane and position.
 */
class ChangeDataCaptureTest {
  private static final long DELIVERY_TIMEOUT_MS = 120_000;
  private static final Duration BATCHING_WINDOW = Duration.ofMillis(500);

  /** A record to produce: key and value JSON (a null value is a tombstone). */
  private record Change(String key, String value) {}

  private static Change change(String op, Long id, String before, String after, boolean wrapped) {
    String payload = "{\"before\":" + before + ",\"after\":" + after
        + ",\"source\":{\"version\":\"2.7.0.Final\",\"connector\":\"postgresql\",\"name\":\"shop\",\"table\":\"orders\","
        + "\"lsn\":" + (1000 + id) + "},\"op\":\"" + op + "\",\"ts_ms\":1795390000000}";
    String value = wrapped ? "{\"schema\":{\"type\":\"struct\",\"optional\":false},\"payload\":" + payload + "}" : payload;
    return new Change(key(id, wrapped), value);
  }

  private static String key(long id, boolean wrapped) {
    String key = "{\"order_id\":" + id + "}";
    return wrapped ? "{\"schema\":{\"type\":\"struct\",\"optional\":false},\"payload\":" + key + "}" : key;
  }

  private static String row(long id, String status, long amount) {
    return "{\"order_id\":" + id + ",\"status\":\"" + status + "\",\"amount\":" + amount + "}";
  }

  private static Change create(long id, String status, long amount) {
    return change("c", id, "null", row(id, status, amount), id % 2 == 0);
  }

  private static Change update(long id, String status, long amount) {
    return change("u", id, row(id, "before", 0), row(id, status, amount), id % 2 == 0);
  }

  /** A delete and the tombstone Debezium writes after it. */
  private static List<Change> delete(long id) {
    return List.of(change("d", id, row(id, "gone", 0), "null", id % 2 == 1), new Change(key(id, id % 2 == 1), null));
  }

  private static List<Change> batch(Object... changes) {
    List<Change> out = new ArrayList<>();
    for (Object change : changes) {
      if (change instanceof Change one) {
        out.add(one);
      } else {
        for (Object each : (List<?>) change) {
          out.add((Change) each);
        }
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void aDebeziumChangeStreamEndsAsTheSourceTable(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("cdc_" + format.name().toLowerCase());
    String bootstrap = TestPipeline.stack().kafkaBootstrap();
    LocalSources.createTopic(bootstrap, app, 1);
    List<List<Change>> batches = List.of(
        // a snapshot read and creates
        batch(change("r", 1L, "null", row(1, "new", 10), false), create(2, "new", 20), create(3, "new", 30),
            create(4, "new", 40)),
        // an update; a delete (+ tombstone); created and deleted in one batch; deleted and re-created in one batch;
        // a truncate and a non-JSON record (rejects)
        batch(update(1, "paid", 11), delete(2), create(5, "new", 50), delete(5), delete(3), create(3, "again", 33),
            change("t", 0L, "null", "null", false), new Change("{\"order_id\":6}", "not json")),
        // the next batch, in another container: a delete of an earlier batch's row, an update
        batch(delete(4), update(3, "shipped", 34)));
    int[] rejectOffsets = {13, 14};

    Map<String, String> settings = Map.of("SPINDRIFT_JOB", ChangeJobs.DebeziumOrders.class.getName(),
        "SPINDRIFT_SINK_FORMAT", format.name().toLowerCase(), "SPINDRIFT_SINK_MODE", "upsert",
        "SPINDRIFT_SINK_KEYS", "order_id");
    SpindriftRuntime first = TestPipeline.runtime(app, settings);
    SpindriftRuntime second = TestPipeline.runtime(app, settings);
    AtomicReference<SpindriftRuntime> container = new AtomicReference<>(first);
    LambdaInvoker function = event -> new InProcessInvoker<>(new MskHandler(container.get()), KafkaEvent.class,
        KafkaBatchResponse.class, 1).invoke(event);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();
    int batchSize = batches.stream().mapToInt(List::size).max().orElseThrow();
    try (KafkaProducer<byte[], byte[]> producer = LocalSources.producer(bootstrap);
        LocalEventSourceMapping mapping = EventSources.kafka(bootstrap, app, "us-east-1", function,
            MappingOptions.defaults().withBatchSize(batchSize).withBatchingWindow(BATCHING_WINDOW), failures::add)) {
      long produced = 0;
      for (int i = 0; i < batches.size(); i++) {
        container.set(i == batches.size() - 1 ? second : first);
        for (Change change : batches.get(i)) {
          producer.send(new ProducerRecord<>(app, bytes(change.key()), bytes(change.value())));
        }
        producer.flush();
        produced += batches.get(i).size();
        assertThat(mapping.awaitRecords(produced, DELIVERY_TIMEOUT_MS)).as("batch " + i + " delivered").isTrue();
      }
      assertThat(failures).isEmpty();
      assertThat(mapping.functionErrors()).isZero();
    }

    Map<Long, String> table = new HashMap<>();
    for (Row row : SinkConformanceTest.read(second, format, app).select("order_id", "status", "amount")
        .collectAsList()) {
      assertThat(table.put(row.getLong(0), row.getString(1) + "|" + row.getLong(2)))
          .as("a second row for order %s", row.get(0)).isNull();
    }
    assertThat(table).isEqualTo(Map.of(1L, "paid|11", 3L, "shipped|34"));
    List<Row> rejects = SinkConformanceTest.read(second, format, app + "_rejects")
        .selectExpr("lane", "CAST(position AS BIGINT)", "error").orderBy("position").collectAsList();
    assertThat(rejects).extracting(r -> r.getString(0)).containsOnly("kafka:" + app + "-0");
    assertThat(rejects).extracting(r -> r.getLong(1)).containsExactly((long) rejectOffsets[0], (long) rejectOffsets[1]);
    assertThat(rejects.get(0).getString(2)).contains("unsupported Debezium op 't'");
    first.close();
    second.close();
  }

  private static byte[] bytes(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }
}
