package io.spindrift.local.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.event.KafkaRecord;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Polls every partition of a Kafka topic from the start and builds MSK {@code KafkaEvent} JSON as Lambda does. */
final class KafkaPoller implements LanePoller {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String bootstrap;
  private final String clusterArn;
  /** Records the consumer returned beyond what the mapping asked for, in order. */
  private final Deque<PolledRecord> fetched = new ArrayDeque<>();

  KafkaPoller(String bootstrap, String topic, String region, String account) {
    this.bootstrap = bootstrap;
    this.clusterArn = "arn:aws:kafka:" + region + ":" + account + ":cluster/spindrift-local/local-1";
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    this.consumer = new KafkaConsumer<>(props);
    List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
        .map(info -> new TopicPartition(topic, info.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
  }

  @Override
  public List<PolledRecord> poll(int maxRecords) {
    if (fetched.isEmpty()) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
        fetched.add(toPolled(record));
      }
    }
    List<PolledRecord> out = new ArrayList<>();
    while (out.size() < maxRecords && !fetched.isEmpty()) {
      out.add(fetched.poll());
    }
    return out;
  }

  /** A topic's partitions never close. */
  @Override
  public boolean exhausted() {
    return false;
  }

  private static PolledRecord toPolled(ConsumerRecord<byte[], byte[]> record) {
    ObjectNode node = JSON.createObjectNode();
    node.put("topic", record.topic());
    node.put("partition", record.partition());
    node.put("offset", record.offset());
    node.put("timestamp", record.timestamp());
    node.put("timestampType", record.timestampType().name());
    node.put("key", record.key() == null ? null : Base64.getEncoder().encodeToString(record.key()));
    node.put("value", record.value() == null ? null : Base64.getEncoder().encodeToString(record.value()));
    ArrayNode headers = node.putArray("headers");
    for (Header header : record.headers()) {
      ArrayNode bytes = headers.addObject().putArray(header.key());
      for (byte b : header.value()) {
        bytes.add(b);
      }
    }
    int size = (record.value() == null ? 0 : record.value().length) + (record.key() == null ? 0 : record.key().length);
    return new PolledRecord(KafkaRecord.lane(record.topic(), record.partition()), Long.toString(record.offset()),
        record.timestamp(), size, node);
  }

  @Override
  public String eventJson(List<PolledRecord> records) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventSource", "aws:kafka");
    event.put("eventSourceArn", clusterArn);
    event.put("bootstrapServers", bootstrap);
    ObjectNode byPartition = event.putObject("records");
    for (PolledRecord record : records) {
      String key = record.json().get("topic").asText() + "-" + record.json().get("partition").asInt();
      JsonNode list = byPartition.get(key);
      (list == null ? byPartition.putArray(key) : (ArrayNode) list).add(record.json());
    }
    return event.toString();
  }

  @Override
  public List<String[]> failedItems(String responseJson, List<PolledRecord> batch) throws Exception {
    List<String[]> failed = new ArrayList<>();
    for (JsonNode failure : JSON.readTree(responseJson).path("batchItemFailures")) {
      JsonNode id = failure.path("itemIdentifier");
      if (!id.hasNonNull("partition") || !id.hasNonNull("offset")) {
        failed.add(new String[] {batch.get(0).lane(), batch.get(0).position()});
      } else {
        failed.add(new String[] {"kafka:" + id.get("partition").asText(), id.get("offset").asText()});
      }
    }
    return failed;
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
