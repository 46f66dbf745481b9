package io.spindrift.it;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.spindrift.event.SourceKind;
import io.spindrift.examples.LocalSources;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.MskHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;

/**
 * Issue 3's oracle, over Kafka: a stateful job fed batch by batch from one topic, run (a) through Spindrift, each
 * batch one invocation of the MSK handler by the local event-source mapping (a second container for one batch),
 * and (b) as a plain Spark Structured Streaming query on Spark's Kafka source (default state store, local
 * checkpoint) restarted with {@code Trigger.AvailableNow} after each batch, so both see the same batch boundaries.
 * The final Iceberg table and the plain query's output are the same rows.
 */
class KafkaOracleTest {
  private static final long DELIVERY_TIMEOUT_MS = 120_000;
  /** Long enough that a batch the mapping polled in part is completed before it invokes. */
  private static final Duration BATCHING_WINDOW = Duration.ofMillis(500);
  /** The batch the second container runs. */
  private static final int SECOND_CONTAINER_BATCH = 2;

  @Test
  void windowedCountOverKafkaEqualsThePlainKafkaQuery() throws Exception {
    assertMatchesOracle(PageViewCounts.class);
  }

  @Test
  void dropDuplicatesWithAWatermarkOverKafkaEqualsThePlainKafkaQuery() throws Exception {
    assertMatchesOracle(StatefulOracleTest.DistinctViews.class);
  }

  @Test
  void flatMapGroupsWithStateWithEventTimeTimeoutOverKafkaEqualsThePlainKafkaQuery() throws Exception {
    assertMatchesOracle(StatefulOracleTest.QuietMinutes.class);
  }

  /**
   * Produces the batches one at a time into a new one-partition topic; after each, waits until the mapping has
   * delivered it to Spindrift (as one invocation) and runs the plain query over it. Then compares Spindrift's table
   * with the plain query's output.
   */
  private static void assertMatchesOracle(Class<? extends StreamJob> job) throws Exception {
    String app = TestPipeline.uniqueApp("kafkaoracle");
    String bootstrap = TestPipeline.stack().kafkaBootstrap();
    LocalSources.createTopic(bootstrap, app, 1);
    List<List<long[]>> batches = StatefulOracleTest.batchesThenFarLater();

    SpindriftRuntime first = TestPipeline.runtime(app, job.getName());
    SpindriftRuntime second = TestPipeline.runtime(app, job.getName());
    AtomicReference<SpindriftRuntime> container = new AtomicReference<>(first);
    LambdaInvoker function = event -> new InProcessInvoker<>(new MskHandler(container.get()), KafkaEvent.class,
        KafkaBatchResponse.class, 1).invoke(event);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();
    PlainKafkaQuery oracle = new PlainKafkaQuery(first.spark(), bootstrap, app,
        job.getDeclaredConstructor().newInstance());

    int batchSize = batches.stream().mapToInt(List::size).max().orElseThrow();
    try (KafkaProducer<byte[], byte[]> producer = LocalSources.producer(bootstrap);
        LocalEventSourceMapping mapping = EventSources.kafka(bootstrap, app, "us-east-1", function,
            MappingOptions.defaults().withBatchSize(batchSize).withBatchingWindow(BATCHING_WINDOW), failures::add)) {
      int id = 0;
      long produced = 0;
      for (int i = 0; i < batches.size(); i++) {
        container.set(i == SECOND_CONTAINER_BATCH ? second : first);
        for (long[] event : batches.get(i)) {
          LocalSources.send(producer, app, "k", StatefulOracleTest.json(id++, event));
        }
        producer.flush();
        produced += batches.get(i).size();
        assertThat(mapping.awaitRecords(produced, DELIVERY_TIMEOUT_MS)).as("batch " + i + " delivered").isTrue();
        oracle.runOverAvailable();
      }
      assertThat(failures).isEmpty();
      assertThat(mapping.functionErrors()).isZero();
      assertThat(mapping.invocations()).as("one invocation per produced batch").isEqualTo(batches.size());
    }

    assertThat(oracle.microBatches()).as("one plain micro-batch per produced batch").isEqualTo(batches.size());
    List<String> expected = oracle.output();
    String columns = String.join(", ", oracle.columns());
    List<String> landed = rows(TestPipeline.rows(first,
        "SELECT " + columns + " FROM " + TestPipeline.qualified(first, "it." + app)));
    first.close();
    second.close();

    assertThat(expected).as("the plain query emitted finished rows").hasSizeGreaterThanOrEqualTo(2);
    assertThat(landed).isEqualTo(expected);
  }

  private static List<String> rows(List<Row> rows) {
    List<String> out = new ArrayList<>();
    rows.forEach(row -> out.add(row.mkString(" | ")));
    out.sort(null);
    return out;
  }

  /**
   * The job as a plain Structured Streaming query on Spark's Kafka source, with Spindrift's two columns added as its
   * decoder makes them; default state store, a local checkpoint, no empty micro-batches (as Spindrift's runtime).
   * Each run processes what the topic holds in one micro-batch and stops.
   */
  private static final class PlainKafkaQuery {
    private final SparkSession spark;
    private final Dataset<Row> output;
    private final Path checkpoint;
    private final List<Row> emitted = new CopyOnWriteArrayList<>();
    private final List<Long> microBatches = new CopyOnWriteArrayList<>();

    PlainKafkaQuery(SparkSession base, String bootstrap, String topic, StreamJob job) throws Exception {
      spark = base.newSession();
      spark.conf().set("spark.sql.streaming.noDataMicroBatches.enabled", "false");
      assertThat(spark.conf().get("spark.sql.streaming.stateStore.providerClass"))
          .as("the plain query keeps Spark's default state store").contains("HDFSBackedStateStoreProvider");
      Dataset<Row> input = spark.readStream().format("kafka")
          .option("kafka.bootstrap.servers", bootstrap)
          .option("subscribe", topic)
          .option("startingOffsets", "earliest")
          .option("includeHeaders", "true")
          .load()
          .withColumn(SourceKind.LANE_COLUMN, concat(lit("kafka:"), col("topic"), lit("-"),
              col("partition").cast("string")))
          .withColumn(SourceKind.POSITION_COLUMN, col("offset").cast("string"));
      assertThat(shape(input.schema().fields())).as("the job sees Spindrift's Kafka input schema")
          .isEqualTo(shape(SourceKind.KAFKA.schema().fields()));
      output = job.transform(input, new JobContext("oracle", SourceKind.KAFKA));
      checkpoint = Files.createTempDirectory("spindrift-kafka-oracle");
    }

    private static List<String> shape(StructField[] fields) {
      return Arrays.stream(fields).map(f -> f.name() + ":" + f.dataType().simpleString()).toList();
    }

    /** One AvailableNow run: everything produced since the last run, as one micro-batch. */
    void runOverAvailable() throws Exception {
      StreamingQuery query = output.writeStream()
          .outputMode("append")
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.AvailableNow())
          .foreachBatch((VoidFunction2<Dataset<Row>, Long>) (batch, batchId) -> {
            microBatches.add(batchId);
            emitted.addAll(batch.collectAsList());
          })
          .start();
      query.awaitTermination();
    }

    long microBatches() {
      return microBatches.size();
    }

    List<String> columns() {
      return Arrays.asList(output.columns());
    }

    List<String> output() {
      return rows(emitted);
    }
  }
}
