package io.spindrift.replay;

import io.spindrift.event.KafkaRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A Kafka (MSK) topic. Each partition's range is resolved to offsets once, when the replay is planned: explicit
 * offsets, {@code offsetsForTimes} for a time, the beginning or end offsets otherwise. The consumer never joins a
 * group and never commits offsets: the app's lane positions in the commit log are the only positions that count.
 */
final class KafkaSource implements ReplaySource {
  private static final Duration POLL = Duration.ofMillis(500);
  private final String bootstrap;
  private final String topic;
  private final Map<Integer, long[]> offsets = new HashMap<>();

  private KafkaSource(String bootstrap, String topic) {
    this.bootstrap = bootstrap;
    this.topic = topic;
  }

  /**
   * The topic {@code topic} on {@code bootstrap}.
   *
   * @throws IllegalArgumentException naming the topic when the cluster has no such topic
   */
  static KafkaSource open(String bootstrap, String topic) {
    KafkaSource source = new KafkaSource(bootstrap, topic);
    try (KafkaConsumer<byte[], byte[]> consumer = source.consumer()) {
      Map<String, List<PartitionInfo>> topics = consumer.listTopics(Duration.ofSeconds(30));
      if (!topics.containsKey(topic)) {
        throw new IllegalArgumentException("no Kafka topic named '" + topic + "' on " + bootstrap);
      }
    }
    return source;
  }

  @Override
  public SourceKind kind() {
    return SourceKind.KAFKA;
  }

  @Override
  public String name() {
    return topic;
  }

  @Override
  public List<LanePlan> plan(RangeSpec range) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> partitions = partitions(consumer);
      Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, Long> starts = offsetsAt(consumer, partitions, range.startTime(), beginning, end);
      Map<TopicPartition, Long> ends = offsetsAt(consumer, partitions, range.endTime(), end, end);
      List<LanePlan> plans = new ArrayList<>();
      for (TopicPartition partition : partitions) {
        String id = Integer.toString(partition.partition());
        long from = range.startPositions().containsKey(id) ? Long.parseLong(range.startPositions().get(id))
            : starts.get(partition);
        long to = range.endPositions().containsKey(id) ? Long.parseLong(range.endPositions().get(id)) + 1
            : ends.get(partition);
        from = Math.max(from, beginning.get(partition));
        to = Math.min(to, end.get(partition));
        offsets.put(partition.partition(), new long[] {from, Math.max(from, to)});
        plans.add(new LanePlan(KafkaRecord.lane(topic, partition.partition()), id, List.of(), Math.max(0, to - from)));
      }
      return plans;
    }
  }

  private static Map<TopicPartition, Long> offsetsAt(KafkaConsumer<byte[], byte[]> consumer,
      List<TopicPartition> partitions, java.time.Instant time, Map<TopicPartition, Long> otherwise,
      Map<TopicPartition, Long> end) {
    if (time == null) {
      return otherwise;
    }
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(p -> query.put(p, time.toEpochMilli()));
    Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
    Map<TopicPartition, Long> out = new HashMap<>();
    // no record at or after the time: the range ends (or starts) at the partition's end
    partitions.forEach(p -> out.put(p, found.get(p) == null ? end.get(p) : found.get(p).offset()));
    return out;
  }

  @Override
  public LaneReader open(LanePlan lane, RangeSpec range, String resumeAfter) {
    int partition = Integer.parseInt(lane.sourceId());
    long[] span = offsets.get(partition);
    long from = resumeAfter == null ? span[0] : Math.max(span[0], Long.parseLong(resumeAfter) + 1);
    return new PartitionReader(consumer(), new TopicPartition(topic, partition), from, span[1]);
  }

  @Override
  public Map<String, Lag> lag(Map<String, String> positions) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> partitions = partitions(consumer);
      Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<String, Lag> out = new LinkedHashMap<>();
      for (TopicPartition partition : partitions) {
        String lane = KafkaRecord.lane(topic, partition.partition());
        String committed = positions.get(lane);
        long next = committed == null ? beginning.get(partition) : Long.parseLong(committed) + 1;
        long tip = end.get(partition);
        out.put(lane, new Lag(tip == 0 ? null : Long.toString(tip - 1), Math.max(0, tip - next), null, false));
      }
      return out;
    }
  }

  private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
    List<TopicPartition> partitions = new ArrayList<>();
    consumer.partitionsFor(topic, Duration.ofSeconds(30))
        .forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
    partitions.sort(java.util.Comparator.comparingInt(TopicPartition::partition));
    return partitions;
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(props);
  }

  @Override
  public void close() {}

  /** One partition from an offset (inclusive) to an offset (exclusive). */
  private static final class PartitionReader implements LaneReader {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final long end;
    private final List<SourceRecord> buffer = new ArrayList<>();
    private long next;

    PartitionReader(KafkaConsumer<byte[], byte[]> consumer, TopicPartition partition, long from, long end) {
      this.consumer = consumer;
      this.partition = partition;
      this.end = end;
      this.next = from;
      consumer.assign(List.of(partition));
      consumer.seek(partition, from);
    }

    @Override
    public List<SourceRecord> next(int max) {
      while (buffer.size() < max && next < end) {
        List<ConsumerRecord<byte[], byte[]>> polled = consumer.poll(POLL).records(partition);
        for (ConsumerRecord<byte[], byte[]> record : polled) {
          if (record.offset() >= end) {
            next = end;
            break;
          }
          buffer.add(toRecord(record));
          next = record.offset() + 1;
        }
        if (polled.isEmpty()) {
          // transaction markers and compacted records leave gaps: the consumer's position says how far it got
          next = Math.max(next, consumer.position(partition));
        }
      }
      List<SourceRecord> out = new ArrayList<>(buffer.subList(0, Math.min(max, buffer.size())));
      buffer.subList(0, out.size()).clear();
      return out;
    }

    private static KafkaRecord toRecord(ConsumerRecord<byte[], byte[]> record) {
      List<Map.Entry<String, byte[]>> headers = new ArrayList<>();
      for (Header header : record.headers()) {
        headers.add(new AbstractMap.SimpleImmutableEntry<>(header.key(), header.value()));
      }
      return new KafkaRecord(record.topic(), record.partition(), record.offset(), record.timestamp(),
          record.timestampType() == TimestampType.LOG_APPEND_TIME ? 1 : 0, record.key(), record.value(), headers);
    }

    @Override
    public boolean finished() {
      return next >= end && buffer.isEmpty();
    }

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(5));
    }
  }

}
