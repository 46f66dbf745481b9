package io.spindrift.examples;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.PutRecordsRequest;
import com.amazonaws.services.kinesis.model.PutRecordsRequestEntry;
import com.amazonaws.services.kinesis.model.PutRecordsResult;
import com.amazonaws.services.kinesis.model.ResourceNotFoundException;
import io.spindrift.event.SourceKind;
import io.spindrift.local.LocalStack;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Creates and fills local streams and topics (the demo's and the tests' producers). */
public final class LocalSources {
  private LocalSources() {}

  /** Creates a Kinesis stream and waits until it is ACTIVE. */
  public static void createStream(AmazonKinesis kinesis, String stream, int shards) throws InterruptedException {
    try {
      kinesis.describeStream(stream);
    } catch (ResourceNotFoundException absent) {
      kinesis.createStream(stream, shards);
    }
    long deadline = System.currentTimeMillis() + 30_000;
    while (!"ACTIVE".equals(kinesis.describeStream(stream).getStreamDescription().getStreamStatus())) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("Kinesis stream " + stream + " did not become ACTIVE");
      }
      Thread.sleep(50);
    }
  }

  /** Puts records in batches of 500, retrying the entries the emulator throttles. */
  public static void putRecords(AmazonKinesis kinesis, String stream, List<String> keys, List<byte[]> payloads) {
    for (int from = 0; from < payloads.size(); from += 500) {
      List<PutRecordsRequestEntry> entries = new ArrayList<>();
      for (int i = from; i < Math.min(payloads.size(), from + 500); i++) {
        entries.add(new PutRecordsRequestEntry().withPartitionKey(keys.get(i)).withData(ByteBuffer.wrap(payloads.get(i))));
      }
      // PutRecords keeps order within a partition key only for entries of one request; retry failed ones in order
      while (!entries.isEmpty()) {
        PutRecordsResult result = kinesis.putRecords(new PutRecordsRequest().withStreamName(stream).withRecords(entries));
        List<PutRecordsRequestEntry> failed = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
          if (result.getRecords().get(i).getErrorCode() != null) {
            failed.add(entries.get(i));
          }
        }
        entries = failed;
      }
    }
  }

  public static void createTopic(String bootstrap, String topic, int partitions) throws InterruptedException {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      try {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("Cannot create topic " + topic, e.getCause());
        }
      }
      awaitLeaders(admin, topic);
    }
  }

  /**
   * Waits until every partition of a new topic has a leader. A producer that sends before then can meet
   * NOT_LEADER_OR_FOLLOWER on its first batch, and Kafka's idempotent producer (the default) may then keep failing
   * the next batches with OUT_OF_ORDER_SEQUENCE_NUMBER until they expire (seen in CI, 2026-12-04).
   */
  private static void awaitLeaders(Admin admin, String topic) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        org.apache.kafka.clients.admin.TopicDescription description =
            admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        if (description != null && description.partitions().stream().allMatch(p -> p.leader() != null
            && !p.leader().isEmpty())) {
          return;
        }
      } catch (ExecutionException e) {
        // not known to the broker yet: ask again
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Topic " + topic + " has a partition without a leader after 30 s");
      }
      Thread.sleep(50);
    }
  }

  /**
   * A producer (acks=all) whose failed sends are not lost: the first failure, however it arrives (thrown, or in a
   * send's future a while later), is thrown by that or the next {@code send}, by {@code flush} and by
   * {@code close}, naming the topic and partition. Plain Kafka producers report a send that timed out only in
   * its future, which a fire-and-forget caller never reads, so a test would silently produce fewer records.
   */
  public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    return producer(bootstrap, Map.of());
  }

  static KafkaProducer<byte[], byte[]> producer(String bootstrap, Map<String, String> overrides) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    // one batch in flight per connection: a new partition's first batch can still meet NOT_LEADER_OR_FOLLOWER
    // after awaitLeaders (the broker becomes leader a few ms after the controller says so); with five in flight
    // the batches behind it land first, and the idempotent producer's retry of it is then refused as
    // OUT_OF_ORDER_SEQUENCE_NUMBER until it expires (CI, 2026-12-05: ReplayTest lost 35 records that way)
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.putAll(overrides);
    return new CheckedProducer(props);
  }

  /**
   * Sends one record; throws {@link IllegalStateException} naming the topic and partition if this send or an
   * earlier one through {@code producer} failed (with a producer from {@link #producer}).
   */
  public static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) {
    producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
  }

  /** See {@link #producer(String)}. */
  private static final class CheckedProducer extends KafkaProducer<byte[], byte[]> {
    private final AtomicReference<IllegalStateException> failure = new AtomicReference<>();

    CheckedProducer(Properties props) {
      super(props);
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
      throwIfFailed();
      Future<RecordMetadata> sent = super.send(record, (metadata, error) -> {
        if (error != null) {
          failure.compareAndSet(null, failure(record, metadata, error));
        }
        if (callback != null) {
          callback.onCompletion(metadata, error);
        }
      });
      throwIfFailed(); // a send that failed before it was queued (no metadata in max.block.ms) has called back
      return sent;
    }

    @Override
    public void flush() {
      super.flush();
      throwIfFailed();
    }

    @Override
    public void close(Duration timeout) {
      super.close(timeout);
      throwIfFailed();
    }

    private void throwIfFailed() {
      IllegalStateException failed = failure.get();
      if (failed != null) {
        throw failed;
      }
    }

    private static IllegalStateException failure(ProducerRecord<byte[], byte[]> record, RecordMetadata metadata,
        Exception error) {
      int partition = record.partition() != null ? record.partition()
          : metadata != null ? metadata.partition() : RecordMetadata.UNKNOWN_PARTITION;
      return new IllegalStateException("Kafka send to topic " + record.topic() + ", partition "
          + (partition == RecordMetadata.UNKNOWN_PARTITION ? "unknown (no metadata for the topic)" : partition)
          + " failed: " + error, error);
    }
  }

  /**
   * Creates the stream and/or topic {@code name} with {@code lanes} shards or partitions and produces the events
   * into them, dealt in turn over {@code kinds} (event i goes to kinds[i % kinds.size()]), in order per key.
   * Returns how many went to each kind.
   */
  public static Map<SourceKind, Integer> produce(LocalStack stack, String name, int lanes, List<SourceKind> kinds,
      List<EventInput.Event> events, IntConsumer progress) throws InterruptedException {
    AmazonKinesis kinesis = kinds.contains(SourceKind.KINESIS) ? LocalPipeline.kinesis(stack) : null;
    if (kinesis != null) {
      createStream(kinesis, name, lanes);
    }
    if (kinds.contains(SourceKind.KAFKA)) {
      createTopic(stack.kafkaBootstrap(), name, lanes);
    }
    Map<SourceKind, Integer> counts = new EnumMap<>(SourceKind.class);
    List<String> keys = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = kinds.contains(SourceKind.KAFKA)
        ? producer(stack.kafkaBootstrap()) : null) {
      for (int i = 0; i < events.size(); i++) {
        EventInput.Event event = events.get(i);
        SourceKind kind = kinds.get(i % kinds.size());
        counts.merge(kind, 1, Integer::sum);
        if (kind == SourceKind.KINESIS) {
          keys.add(event.key());
          payloads.add(event.payload());
        } else {
          send(producer, name, event.key(), event.payload());
        }
        if (payloads.size() == 5000) {
          putRecords(kinesis, name, keys, payloads);
          keys.clear();
          payloads.clear();
        }
        progress.accept(i + 1);
      }
      if (!payloads.isEmpty()) {
        putRecords(kinesis, name, keys, payloads);
      }
      if (producer != null) {
        producer.flush();
      }
    } finally {
      if (kinesis != null) {
        kinesis.shutdown();
      }
    }
    return counts;
  }
}
