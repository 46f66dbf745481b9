package io.spindrift.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/** MSK events as Lambda delivers them (the local mapping's serialization), built by hand for one partition. */
final class KafkaEvents {
  private static final ObjectMapper JSON = new ObjectMapper();

  private KafkaEvents() {}

  /** A Kafka record's key and value (either may be null: a null value is a tombstone). */
  record KeyValue(String key, String value) {}

  static KeyValue record(String key, String value) {
    return new KeyValue(key, value);
  }

  /** One event with {@code records} at offsets {@code first}, {@code first + 1}, … of {@code topic}-{@code partition}. */
  static String event(String topic, int partition, long first, List<KeyValue> records) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventSource", "aws:kafka");
    event.put("eventSourceArn", "arn:aws:kafka:us-east-1:000000000000:cluster/local/1");
    event.put("bootstrapServers", "127.0.0.1:9092");
    ArrayNode list = event.putObject("records").putArray(topic + "-" + partition);
    for (int i = 0; i < records.size(); i++) {
      ObjectNode node = list.addObject();
      node.put("topic", topic);
      node.put("partition", partition);
      node.put("offset", first + i);
      node.put("timestamp", 1_795_390_000_000L + first + i);
      node.put("timestampType", "CREATE_TIME");
      node.put("key", base64(records.get(i).key()));
      node.put("value", base64(records.get(i).value()));
      node.putArray("headers");
    }
    return event.toString();
  }

  private static String base64(String text) {
    return text == null ? null : Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
