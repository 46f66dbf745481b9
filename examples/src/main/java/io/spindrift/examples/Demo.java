package io.spindrift.examples;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.LocalStack;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The local demo: starts the local stack, produces a clickstream into a Kinesis stream (2 shards) and a Kafka
 * topic (2 partitions), runs the example {@link Clickstream} job through the local event-source mappings into
 * Iceberg, and prints what happened. Exits non-zero unless every event landed exactly once (table + rejects).
 *
 * <p>Options: {@code --events N} (default 100000, split over both sources), {@code --batch-size N} (default 1000),
 * {@code --format iceberg|delta|hudi} (default iceberg).
 */
public final class Demo {
  /** Lambda x86 price, us-east-1: per GB-second and per request. */
  private static final double PRICE_GB_SECOND = 0.0000166667;
  private static final double PRICE_REQUEST = 0.20 / 1_000_000;
  private static final double MEMORY_GB = 3008 / 1024.0;

  public static void main(String[] args) throws Exception {
    int events = intOption(args, "--events", 100_000);
    int batchSize = intOption(args, "--batch-size", 1000);
    String format = option(args, "--format", "iceberg").toLowerCase(Locale.ROOT);
    if (!format.matches("iceberg|delta|hudi")) {
      throw new IllegalArgumentException("Invalid --format: '" + format + "' (iceberg, delta or hudi)");
    }
    long started = System.currentTimeMillis();
    System.out.println("Spindrift demo: " + events + " clickstream events over Kinesis and Kafka into " + format
        + ", batch size " + batchSize);

    LocalStack stack = LocalStack.shared();
    System.out.println("Local stack up: " + stack.startupTimes());
    SpindriftRuntime runtime = SpindriftRuntime.create(LocalPipeline.config(stack, Map.of(
        "SPINDRIFT_APP", "clickstream", "SPINDRIFT_JOB", Clickstream.class.getName(),
        "SPINDRIFT_SINK_FORMAT", format)));

    AmazonKinesis kinesis = LocalPipeline.kinesis(stack);
    LocalSources.createStream(kinesis, "clickstream", 2);
    LocalSources.createTopic(stack.kafkaBootstrap(), "clickstream", 2);
    int malformed = produce(kinesis, stack.kafkaBootstrap(), events);
    System.out.printf(Locale.ROOT, "Produced %d events (%d malformed on purpose) in %.1f s%n", events, malformed,
        (System.currentTimeMillis() - started) / 1000.0);

    List<FailedBatch> failures = new CopyOnWriteArrayList<>();
    boolean exact;
    MappingOptions options = MappingOptions.defaults().withBatchSize(batchSize);
    long runStart = System.currentTimeMillis();
    try (LocalEventSourceMapping kinesisMapping = EventSources.kinesis(kinesis, "clickstream", stack.region(),
            new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 2),
            options, failures::add);
        LocalEventSourceMapping kafkaMapping = EventSources.kafka(stack.kafkaBootstrap(), "clickstream", stack.region(),
            new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1),
            options, failures::add)) {
      boolean complete = waitWithProgress(events, kinesisMapping, kafkaMapping, runStart);
      exact = report(runtime, events, malformed, failures, List.of(kinesisMapping, kafkaMapping), runStart, started)
          && complete;
    }
    stack.close();
    System.exit(exact ? 0 : 1);
  }

  private static int produce(AmazonKinesis kinesis, String bootstrap, int events) {
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0.005, System.currentTimeMillis() - 3_600_000);
    int malformed = 0;
    List<String> keys = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = LocalSources.producer(bootstrap)) {
      for (int i = 0; i < events; i++) {
        ClickstreamGenerator.Event event = generator.next();
        malformed += event.malformed() ? 1 : 0;
        if (i % 2 == 0) {
          keys.add(event.key());
          payloads.add(event.json());
        } else {
          LocalSources.send(producer, "clickstream", event.key(), event.json());
        }
        if (payloads.size() == 5000) {
          LocalSources.putRecords(kinesis, "clickstream", keys, payloads);
          keys.clear();
          payloads.clear();
        }
        if ((i + 1) % 20_000 == 0) {
          System.out.printf("  produced %,d / %,d%n", i + 1, events);
        }
      }
      LocalSources.putRecords(kinesis, "clickstream", keys, payloads);
      producer.flush();
    }
    return malformed;
  }

  private static boolean waitWithProgress(int events, LocalEventSourceMapping kinesis, LocalEventSourceMapping kafka,
      long runStart) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20 * 60_000;
    while (System.currentTimeMillis() < deadline) {
      long done = kinesis.delivered() + kafka.delivered() + kinesis.sentToDestination() + kafka.sentToDestination();
      double seconds = (System.currentTimeMillis() - runStart) / 1000.0;
      System.out.printf(Locale.ROOT, "  [%5.1fs] %,d / %,d events committed, %d invocations, %,.0f events/s%n",
          seconds, done, events, kinesis.invocations() + kafka.invocations(), done / Math.max(seconds, 0.001));
      if (done >= events) {
        return true;
      }
      Thread.sleep(2000);
    }
    System.out.println("Timed out waiting for the mappings to deliver every event");
    return false;
  }

  private static boolean report(SpindriftRuntime runtime, int events, int malformed, List<FailedBatch> failures,
      List<LocalEventSourceMapping> mappings, long runStart, long started) {
    SparkSession spark = runtime.spark();
    String table = view(runtime, runtime.sink().table(), "demo_table");
    String rejects = view(runtime, runtime.rejectsTable(), "demo_rejects");
    long rows = spark.sql("SELECT count(*) FROM " + table).first().getLong(0);
    long distinct = spark.sql("SELECT count(DISTINCT event_id) FROM " + table).first().getLong(0);
    long rejected = tableCount(spark, rejects);
    List<Long> latencies = new ArrayList<>();
    long invocations = 0;
    long totalMs = 0;
    for (LocalEventSourceMapping mapping : mappings) {
      latencies.addAll(mapping.latenciesMs());
      invocations += mapping.invocations();
    }
    for (long latency : latencies) {
      totalMs += latency;
    }
    Collections.sort(latencies);
    double gbSeconds = totalMs / 1000.0 * MEMORY_GB;
    double dollars = gbSeconds * PRICE_GB_SECOND + invocations * PRICE_REQUEST;
    System.out.println();
    System.out.println("=== Spindrift demo summary ===");
    System.out.printf(Locale.ROOT, "events produced       %,d (%d malformed)%n", events, malformed);
    System.out.printf(Locale.ROOT, "rows in %s  %,d (%,d distinct event ids)%n", runtime.sink().table(), rows, distinct);
    System.out.printf(Locale.ROOT, "rejects               %,d (in %s)%n", rejected, runtime.rejectsTable());
    System.out.printf(Locale.ROOT, "to failure destination %,d records%n", failures.stream().mapToInt(FailedBatch::records).sum());
    System.out.printf(Locale.ROOT, "batches (invocations) %,d, commit conflicts %d%n", invocations, runtime.conflicts());
    System.out.printf(Locale.ROOT, "batch latency         p50 %d ms, p95 %d ms, max %d ms%n",
        percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 100));
    System.out.printf(Locale.ROOT, "processing time       %.1f s for %,d events (%,.0f events/s)%n",
        (System.currentTimeMillis() - runStart) / 1000.0, events,
        events / Math.max(0.001, (System.currentTimeMillis() - runStart) / 1000.0));
    System.out.printf(Locale.ROOT, "Lambda cost estimate  %.1f GB-s at %.2f GB -> $%.6f (x86 $%.10f/GB-s + $0.20/M requests)%n",
        gbSeconds, MEMORY_GB, dollars, PRICE_GB_SECOND);
    System.out.println("Top pages by views:");
    for (Row row : spark.sql("SELECT page, count(*) AS views, count(DISTINCT user_id) AS users FROM " + table
        + " WHERE action = 'view' GROUP BY page ORDER BY views DESC LIMIT 5").collectAsList()) {
      System.out.printf(Locale.ROOT, "  %-28s %,8d views %,6d users%n", row.getString(0), row.getLong(1), row.getLong(2));
    }
    System.out.printf(Locale.ROOT, "demo wall time        %.1f s%n", (System.currentTimeMillis() - started) / 1000.0);
    boolean exact = rows == distinct && rows + rejected == events;
    System.out.println(exact ? "EXACTLY ONCE: every event is in the table or the rejects, once."
        : "MISMATCH: table + rejects != events produced");
    return exact;
  }

  /**
   * Registers the table as a temporary view, read the way a user would: through the Iceberg catalog, or with
   * {@code spark.read.format("delta"|"hudi")} at its S3 location. Returns the view's name ({@code null} if absent).
   */
  private static String view(SpindriftRuntime runtime, String table, String view) {
    SparkSession spark = runtime.spark();
    try {
      Dataset<Row> rows = switch (runtime.sink().format()) {
        case ICEBERG -> spark.read().table(runtime.config().get(io.spindrift.config.Setting.CATALOG_NAME) + "." + table);
        case DELTA, HUDI -> spark.read().format(runtime.sink().format().name().toLowerCase(Locale.ROOT))
            .load("s3a://" + runtime.config().bucket() + "/warehouse/" + table.replace('.', '/'));
      };
      rows.createOrReplaceTempView(view);
      return view;
    } catch (Exception absent) {
      return null;
    }
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }

  private static long tableCount(SparkSession spark, String table) {
    if (table == null) {
      return 0;
    }
    try {
      return spark.sql("SELECT count(*) FROM " + table).first().getLong(0);
    } catch (Exception noRejects) {
      return 0;
    }
  }

  static long percentile(List<Long> sorted, int p) {
    if (sorted.isEmpty()) {
      return 0;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static int intOption(String[] args, String name, int fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        try {
          return Integer.parseInt(args[i + 1]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("Invalid " + name + ": '" + args[i + 1] + "' (an integer)");
        }
      }
    }
    return fallback;
  }
}
