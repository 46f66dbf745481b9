package io.spindrift.fanout;

import io.spindrift.event.KafkaRecord;
import io.spindrift.event.SourceRecord;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A Kafka partition read after an offset with a consumer of no group (assign and seek; nothing is committed to the
 * cluster). The partition is far behind when its end offset is at least {@code minLag} records past the position.
 * Records become {@link KafkaRecord}s as {@code EventDecoder} makes them from an MSK event (key, value, headers,
 * timestamp and its type). One consumer per container, kept warm; reads are serialised. It connects as the MSK
 * event-source mapping does ({@link KafkaSecurity}: plaintext, TLS, SASL/SCRAM or IAM).
 */
final class KafkaTail implements LaneTail {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final String bootstrap;
  private final long minLag;
  private final Properties security;
  private KafkaConsumer<byte[], byte[]> consumer;

  /** @param security the client's security properties ({@link KafkaSecurity}: TLS, SASL/SCRAM, IAM) */
  KafkaTail(String bootstrap, long minLag, Properties security) {
    this.bootstrap = bootstrap;
    this.minLag = minLag;
    this.security = security;
  }

  @Override
  public synchronized Tail read(String lane, String position, long maxRecords, long maxBytes) {
    String topicPartition = lane.substring("kafka:".length());
    int dash = topicPartition.lastIndexOf('-');
    TopicPartition partition = new TopicPartition(topicPartition.substring(0, dash),
        Integer.parseInt(topicPartition.substring(dash + 1)));
    KafkaConsumer<byte[], byte[]> reader = consumer();
    reader.assign(List.of(partition));
    long from = Long.parseLong(position) + 1;
    long end = reader.endOffsets(List.of(partition), TIMEOUT).get(partition);
    if (end - from < Math.max(1, minLag)) {
      return Tail.none(lane + " is " + Math.max(0, end - from) + " records behind its end offset < "
          + "SPINDRIFT_READ_AHEAD_MIN_LAG_RECORDS=" + minLag);
    }
    reader.seek(partition, from);
    List<SourceRecord> out = new ArrayList<>();
    long bytes = 0;
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    String until = "its end offset " + end;
    reading:
    while (reader.position(partition) < end && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> record : reader.poll(Duration.ofMillis(200)).records(partition)) {
        if (record.offset() >= end) {
          break reading;
        }
        KafkaRecord decoded = decode(record);
        if (out.size() >= maxRecords) {
          until = "SPINDRIFT_READ_AHEAD_MAX_RECORDS";
          break reading;
        }
        if (bytes + decoded.size() > maxBytes) {
          until = "SPINDRIFT_READ_AHEAD_MAX_BYTES";
          break reading;
        }
        out.add(decoded);
        bytes += decoded.size();
      }
    }
    return new Tail(out, out.size(), bytes,
        lane + " was " + (end - from) + " records behind its end offset: read ahead up to " + until);
  }

  private static KafkaRecord decode(ConsumerRecord<byte[], byte[]> record) {
    List<Map.Entry<String, byte[]>> headers = new ArrayList<>();
    for (Header header : record.headers()) {
      headers.add(new AbstractMap.SimpleImmutableEntry<>(header.key(), header.value()));
    }
    return new KafkaRecord(record.topic(), record.partition(), record.offset(), record.timestamp(),
        record.timestampType() == TimestampType.LOG_APPEND_TIME ? 1 : 0, record.key(), record.value(), headers);
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    if (consumer == null) {
      consumer = new KafkaConsumer<>(consumerProperties());
    }
    return consumer;
  }

  /** The consumer's configuration: no group, nothing committed, byte arrays, and the security properties. */
  Properties consumerProperties() {
    Properties props = new Properties();
    props.putAll(security);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "spindrift-read-ahead");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return props;
  }

  @Override
  public synchronized void close() {
    if (consumer != null) {
      consumer.close(Duration.ofSeconds(2));
      consumer = null;
    }
  }
}
