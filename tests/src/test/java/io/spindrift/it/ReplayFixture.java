package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.Shard;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.replay.SpindriftCli;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * What the replay tests share: producing clickstream events into local streams, running the live pipeline (the
 * local event-source mapping into the app's runtime), running the {@code spindrift} CLI in this JVM, and
 * comparing tables as multisets.
 */
final class ReplayFixture {
  static final long TIMEOUT_MS = 300_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReplayFixture() {}

  /** Events produced: how many, and how many of them the job rejects. */
  record Produced(int events, int malformed) {
    int valid() {
      return events - malformed;
    }

    Produced plus(Produced other) {
      return new Produced(events + other.events, malformed + other.malformed);
    }
  }

  /** What a CLI run printed and returned. */
  record CliRun(int exitCode, String out, String err) {
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + out + "\nstderr: " + err, e);
      }
    }
  }

  /** The environment a user would export for {@code app} on the local stack. */
  static Map<String, String> environment(String app) {
    Map<String, String> env = new HashMap<>(LocalPipeline.config(TestPipeline.stack(), Map.of("SPINDRIFT_APP", app,
        "SPINDRIFT_JOB", Clickstream.class.getName(), "SPINDRIFT_SINK_TABLE", "it." + app)).asMap());
    env.put("SPINDRIFT_KINESIS_ENDPOINT", TestPipeline.stack().kinesisEndpoint());
    env.put("SPINDRIFT_KAFKA_BOOTSTRAP", TestPipeline.stack().kafkaBootstrap());
    return env;
  }

  /** Runs {@code spindrift args...} in this JVM with {@code app}'s environment. */
  static CliRun cli(String app, String... args) {
    return cliWith(Map.of(), app, args);
  }

  /** As {@link #cli}, with {@code extra} added to the environment. */
  static CliRun cliWith(Map<String, String> extra, String app, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = new HashMap<>(environment(app));
    env.putAll(extra);
    int code = SpindriftCli.run(env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args);
    return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Produced produceKinesis(AmazonKinesis kinesis, String stream, int events, long seed) {
    ClickstreamGenerator generator = new ClickstreamGenerator(seed, 0.02, System.currentTimeMillis());
    List<String> keys = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    int malformed = 0;
    for (int i = 0; i < events; i++) {
      ClickstreamGenerator.Event event = generator.next();
      keys.add(event.key());
      payloads.add(event.json());
      malformed += event.malformed() ? 1 : 0;
    }
    LocalSources.putRecords(kinesis, stream, keys, payloads);
    return new Produced(events, malformed);
  }

  static Produced produceKafka(String topic, int events, long seed) {
    ClickstreamGenerator generator = new ClickstreamGenerator(seed, 0.02, System.currentTimeMillis());
    int malformed = 0;
    try (KafkaProducer<byte[], byte[]> producer = LocalSources.producer(TestPipeline.stack().kafkaBootstrap())) {
      for (int i = 0; i < events; i++) {
        ClickstreamGenerator.Event event = generator.next();
        malformed += event.malformed() ? 1 : 0;
        LocalSources.send(producer, topic, event.key(), event.json());
      }
    }
    return new Produced(events, malformed);
  }

  /** Splits the stream's first open shard in two at the middle of its hash key range; waits until ACTIVE. */
  static void splitFirstShard(AmazonKinesis kinesis, String stream) throws InterruptedException {
    Shard shard = kinesis.describeStream(stream).getStreamDescription().getShards().get(0);
    BigInteger low = new BigInteger(shard.getHashKeyRange().getStartingHashKey());
    BigInteger high = new BigInteger(shard.getHashKeyRange().getEndingHashKey());
    kinesis.splitShard(stream, shard.getShardId(), low.add(high).shiftRight(1).toString());
    LocalSources.createStream(kinesis, stream, 0);
  }

  /** The live pipeline over every shard of {@code stream} into {@code runtime}, until the table holds them all. */
  static void liveKinesis(SpindriftRuntime runtime, AmazonKinesis kinesis, String stream, Produced produced)
      throws Exception {
    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, stream, "us-east-1",
        new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 2),
        MappingOptions.defaults().withBatchSize(500).withBatchingWindow(Duration.ofMillis(50)), failed -> { })) {
      awaitRows(runtime, produced);
    }
  }

  /** The live MSK pipeline over {@code topic} into {@code runtime}, until the table holds {@code produced}. */
  static LocalEventSourceMapping liveKafka(SpindriftRuntime runtime, String topic) {
    return EventSources.kafka(TestPipeline.stack().kafkaBootstrap(), topic, "us-east-1",
        new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1),
        MappingOptions.defaults().withBatchSize(300), failed -> { });
  }

  /** Waits until the app's table and rejects together hold every produced event (the mapping may re-deliver). */
  static void awaitRows(SpindriftRuntime runtime, Produced produced) throws InterruptedException {
    String table = runtime.sink().table();
    await(() -> TestPipeline.count(runtime, table) + TestPipeline.count(runtime, table + "_rejects"),
        produced.events());
  }

  static void await(LongSupplier value, long expected) throws InterruptedException {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    long seen = value.getAsLong();
    while (seen < expected && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      seen = value.getAsLong();
    }
    assertThat(seen).as("rows landed before the deadline").isEqualTo(expected);
  }

  /** Rows of {@code a} not in {@code b}, and of {@code b} not in {@code a}, counting duplicates (EXCEPT ALL). */
  static long multisetDifference(SpindriftRuntime runtime, String a, String b, String columns) {
    String qa = TestPipeline.qualified(runtime, a);
    String qb = TestPipeline.qualified(runtime, b);
    return runtime.spark().sql("SELECT " + columns + " FROM " + qa + " EXCEPT ALL SELECT " + columns + " FROM " + qb)
        .count()
        + runtime.spark().sql("SELECT " + columns + " FROM " + qb + " EXCEPT ALL SELECT " + columns + " FROM " + qa)
        .count();
  }

  static final String REJECT_COLUMNS = "lane, position, error, payload";
}
