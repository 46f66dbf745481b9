package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.Clickstream;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.ContainerSpec;
import io.spindrift.local.mapping.FrozenContainers;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.protocol.Faults;
import io.spindrift.runtime.RuntimeHooks;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.SinkSpec.Format;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14's fault matrix: a crash at each named protocol point ({@link FaultPoint}) × stateless/stateful ×
 * Iceberg/Delta/Hudi × Kinesis/MSK, then the retry Lambda makes, in a new container; a container JVM killed with
 * {@code kill -9} at each point (one combination per point, rotating through the others); S3 and DynamoDB frozen
 * (SIGSTOP) for 10 s in the middle of a batch. Every case asserts zero lost and zero duplicated records (table rows
 * plus rejects against the records sent, and distinct events); a summary table is printed at the end.
 */
class FaultMatrixTest {
  private static final int RECORDS_PER_BATCH = 24;
  private static final int MALFORMED_AT = 5;
  private static final List<String> SUMMARY = Collections.synchronizedList(new ArrayList<>());

  enum Source { KINESIS, MSK }

  /** A stateful job whose output is one row per record: dropDuplicates on (event_id, position), with a watermark. */
  public static final class DistinctEvents implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .withWatermark("ts", "1 hour")
          .dropDuplicates("event_id", io.spindrift.event.SourceKind.POSITION_COLUMN, "ts");
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.distinct_events");
    }
  }

  static Stream<Arguments> combinations() {
    List<Arguments> out = new ArrayList<>();
    for (Format format : Format.values()) {
      for (boolean stateful : new boolean[] {false, true}) {
        for (Source source : Source.values()) {
          out.add(Arguments.of(format, stateful, source));
        }
      }
    }
    return out.stream();
  }

  /**
   * One app per combination; each protocol point in turn crashes the container that runs a new batch, and a new
   * container gets the same batch again (Lambda's retry). After each retry the table holds every record sent so far
   * exactly once (in the table or the rejects).
   */
  @ParameterizedTest(name = "{0} stateful={1} {2}")
  @MethodSource("combinations")
  void aCrashAtEveryProtocolPointLosesAndDoublesNothing(Format format, boolean stateful, Source source)
      throws Exception {
    String app = TestPipeline.uniqueApp("matrix");
    Map<String, String> settings = settings(app, format, stateful);
    SpindriftRuntime container = TestPipeline.runtime(app, settings);
    try {
      int sent = 0;
      for (FaultPoint point : FaultPoint.values()) {
        if (point == FaultPoint.MID_STATE_APPLY && !stateful) {
          continue;
        }
        String event = event(source, sent, batch(sent));
        RuntimeHooks.faults(container).arm(point, 1);
        SpindriftRuntime crashed = container;
        assertThatThrownBy(() -> invoker(crashed, source).invoke(event)).as("the crash at " + point)
            .isInstanceOf(LambdaInvoker.FunctionError.class).hasMessageContaining(point.name());
        crashed.close();
        container = TestPipeline.runtime(app, settings);
        assertThat(invoker(container, source).invoke(event)).as("the retry after " + point)
            .contains("\"batchItemFailures\":[]");
        sent += RECORDS_PER_BATCH;
        assertExact(container, format, app, sent, "crash at " + point + ", " + format + ", "
            + (stateful ? "stateful" : "stateless") + ", " + source);
      }
    } finally {
      container.close();
    }
  }

  /** Each protocol point once, in a container JVM killed with {@code kill -9} there; Lambda's retry goes to another. */
  @Test
  void aContainerJvmKilledAtEachProtocolPointLosesAndDoublesNothing() throws Exception {
    Object[][] cases = {
        {FaultPoint.BEFORE_STAGE, Format.HUDI, false, Source.MSK},
        {FaultPoint.AFTER_STAGE, Format.DELTA, true, Source.MSK},
        {FaultPoint.AFTER_COMMIT, Format.ICEBERG, false, Source.KINESIS},
        {FaultPoint.MID_PUBLISH, Format.DELTA, false, Source.KINESIS},
        {FaultPoint.MID_STATE_APPLY, Format.ICEBERG, true, Source.KINESIS}};
    for (Object[] c : cases) {
      FaultPoint point = (FaultPoint) c[0];
      Format format = (Format) c[1];
      boolean stateful = (Boolean) c[2];
      Source source = (Source) c[3];
      String app = TestPipeline.uniqueApp("kill");
      Map<String, String> settings = settings(app, format, stateful);
      SpindriftRuntime reader = TestPipeline.runtime(app, settings);
      Path marker = Files.createTempDirectory("spindrift-kill-").resolve("killed");
      try (FrozenContainers containers = new FrozenContainers(spec(reader, source,
          "-D" + Faults.KILL_PROPERTY + "=" + point + "@" + marker), 1)) {
        // a first batch through this JVM's own container: the table exists and this JVM reads it as the sink wrote it
        assertThat(invoker(reader, source).invoke(event(source, 0, batch(0)))).contains("\"batchItemFailures\":[]");
        String event = event(source, RECORDS_PER_BATCH, batch(RECORDS_PER_BATCH));
        assertThatThrownBy(() -> containers.invoke(event)).as("the container killed at " + point)
            .isInstanceOf(LambdaInvoker.FunctionError.class);
        assertThat(marker).as("the container reached " + point).exists();
        assertThat(containers.invoke(event)).as("the retry in a new container").contains("\"batchItemFailures\":[]");
        assertThat(containers.containersStarted()).isEqualTo(2);
        assertExact(reader, format, app, 2 * RECORDS_PER_BATCH, "kill -9 at " + point + ", " + format + ", "
            + (stateful ? "stateful" : "stateless") + ", " + source);
      } finally {
        reader.close();
      }
    }
  }

  /**
   * S3, then DynamoDB, frozen for 10 s while a batch runs: the invocation either waits it out or fails (not the
   * records' fault: Lambda retries it, here on a new container); either way nothing is lost or doubled.
   */
  @Test
  void s3OrDynamoDbUnavailableForTenSecondsMidBatchLosesAndDoublesNothing() throws Exception {
    for (String service : List.of("s3", "dynamodb")) {
      for (boolean stateful : new boolean[] {false, true}) {
        String app = TestPipeline.uniqueApp("outage");
        Map<String, String> settings = settings(app, Format.ICEBERG, stateful);
        SpindriftRuntime container = TestPipeline.runtime(app, settings);
        try {
          // a first batch warms the container, so the outage meets the protocol rather than start-up
          assertThat(invoker(container, Source.KINESIS).invoke(event(Source.KINESIS, 0, batch(0))))
              .contains("\"batchItemFailures\":[]");
          String event = event(Source.KINESIS, RECORDS_PER_BATCH, batch(RECORDS_PER_BATCH));
          SpindriftRuntime running = container;
          CompletableFuture<String> invocation = CompletableFuture.supplyAsync(() -> {
            try {
              return invoker(running, Source.KINESIS).invoke(event);
            } catch (LambdaInvoker.FunctionError e) {
              return "function error: " + e.getMessage();
            }
          });
          Thread.sleep(150);
          TestPipeline.stack().suspend(service);
          try {
            Thread.sleep(10_000);
          } finally {
            TestPipeline.stack().resume(service);
          }
          String outcome = invocation.get(5, TimeUnit.MINUTES);
          if (!outcome.contains("\"batchItemFailures\":[]")) {
            container.close();
            container = TestPipeline.runtime(app, settings);
            assertThat(invoker(container, Source.KINESIS).invoke(event)).as("the retry after " + outcome)
                .contains("\"batchItemFailures\":[]");
          }
          assertExact(container, Format.ICEBERG, app, 2 * RECORDS_PER_BATCH, service + " frozen 10 s, "
              + (stateful ? "stateful" : "stateless") + " (first invocation: "
              + (outcome.startsWith("function error") ? "failed, retried" : "waited") + ")");
        } finally {
          container.close();
        }
      }
    }
  }

  @AfterAll
  static void printSummary() {
    StringBuilder table = new StringBuilder("\nFault matrix (issue 14)\n");
    table.append(String.format("%-62s %8s %8s %8s %5s %11s%n", "case", "records", "table", "rejects", "lost",
        "duplicated"));
    SUMMARY.forEach(line -> table.append(line).append('\n'));
    System.out.println(table);
  }

  private static Map<String, String> settings(String app, Format format, boolean stateful) {
    Map<String, String> settings = new HashMap<>();
    settings.put("SPINDRIFT_SINK_TABLE", "it." + app);
    settings.put("SPINDRIFT_SINK_FORMAT", format.name().toLowerCase());
    settings.put("SPINDRIFT_JOB", (stateful ? DistinctEvents.class : Clickstream.class).getName());
    // the stateful half runs on bucket commits by default (auto: a new app);
    // -Dspindrift.faultMatrix.statefulCommitMode=head runs it on head commits (issue 15)
    String statefulMode = System.getProperty("spindrift.faultMatrix.statefulCommitMode", "");
    if (stateful && !statefulMode.isBlank()) {
      settings.put("SPINDRIFT_STATEFUL_COMMIT_MODE", statefulMode);
    }
    return settings;
  }

  /** A batch of records starting at {@code first}: clickstream events with one malformed record. */
  private static List<byte[]> batch(int first) {
    List<byte[]> clicks = new ArrayList<>(KinesisEvents.clicks(RECORDS_PER_BATCH, 10 + first));
    clicks.set(MALFORMED_AT, ("{\"event_id\":\"broken-" + first).getBytes(StandardCharsets.UTF_8));
    return clicks;
  }

  private static String event(Source source, long first, List<byte[]> payloads) {
    if (source == Source.KINESIS) {
      return KinesisEvents.event("clicks", "shardId-000000000000", first, payloads);
    }
    List<KafkaEvents.KeyValue> records = new ArrayList<>();
    for (byte[] payload : payloads) {
      records.add(KafkaEvents.record("k", new String(payload, StandardCharsets.UTF_8)));
    }
    return KafkaEvents.event("clicks", 0, first, records);
  }

  private static LambdaInvoker invoker(SpindriftRuntime runtime, Source source) {
    return source == Source.KINESIS
        ? new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1)
        : new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1);
  }

  private static ContainerSpec spec(SpindriftRuntime runtime, Source source, String extraJvmOption) {
    Map<String, String> environment = new HashMap<>(runtime.config().asMap());
    environment.put("AWS_ACCESS_KEY_ID", "local");
    environment.put("AWS_SECRET_ACCESS_KEY", "local");
    environment.put("SPARK_LOCAL_IP", "127.0.0.1");
    List<String> jvmOptions = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseSerialGC", extraJvmOption));
    Arrays.stream(System.getProperty("spindrift.spark.opens", "").split(" ")).filter(o -> !o.isBlank())
        .forEach(jvmOptions::add);
    return source == Source.KINESIS
        ? ContainerSpec.of(KinesisHandler.class.getName(), KinesisEvent.class, StreamsEventResponse.class,
            environment, jvmOptions)
        : ContainerSpec.of(MskHandler.class.getName(), KafkaEvent.class, KafkaBatchResponse.class, environment,
            jvmOptions);
  }

  /**
   * The table and its rejects hold the {@code sent} records exactly once: one malformed record per batch in the
   * rejects, every other one once in the table (counted and distinct by event id).
   */
  private static void assertExact(SpindriftRuntime runtime, Format format, String app, int sent, String name) {
    Dataset<Row> table = SinkConformanceTest.read(runtime, format, app);
    long rows = table.count();
    long distinct = table.select(functions.col("event_id")).distinct().count();
    long rejects = SinkConformanceTest.read(runtime, format, app + "_rejects").count();
    long expectedRejects = sent / RECORDS_PER_BATCH;
    long lost = Math.max(0, sent - distinct - Math.min(rejects, expectedRejects));
    long duplicated = (rows - distinct) + Math.max(0, rejects - expectedRejects);
    SUMMARY.add(String.format("%-62s %8d %8d %8d %5d %11d", name, sent, rows, rejects, lost, duplicated));
    assertThat(rows).as(name + ": table rows").isEqualTo(sent - expectedRejects);
    assertThat(distinct).as(name + ": distinct events").isEqualTo(sent - expectedRejects);
    assertThat(rejects).as(name + ": rejects").isEqualTo(expectedRejects);
  }
}
