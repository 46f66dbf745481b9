package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Kafka handler takes self-managed Apache Kafka events ({@code "eventSource": "SelfManagedKafka"}, {@code
 * bootstrapServers} and no cluster ARN) as it takes MSK's: same lanes, committed exactly once.
 */
class SelfManagedKafkaTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An event as Lambda sends it for {@code source}, one record per payload from {@code first} on each partition. */
  static String event(String source, String topic, Map<Integer, List<byte[]>> partitions, long first) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventSource", source);
    if (source.equals("aws:kafka")) {
      event.put("eventSourceArn", "arn:aws:kafka:us-east-1:123456789012:cluster/demo/751d2973-a626-431c");
    }
    event.put("bootstrapServers", "kafka-1.example.internal:9092,kafka-2.example.internal:9092");
    ObjectNode records = event.putObject("records");
    partitions.forEach((partition, payloads) -> {
      ArrayNode list = records.putArray(topic + "-" + partition);
      for (int i = 0; i < payloads.size(); i++) {
        ObjectNode record = list.addObject();
        record.put("topic", topic);
        record.put("partition", partition);
        record.put("offset", first + i);
        record.put("timestamp", 1_795_390_000_000L + i);
        record.put("timestampType", "CREATE_TIME");
        record.put("key", Base64.getEncoder().encodeToString(("k" + i).getBytes()));
        record.put("value", Base64.getEncoder().encodeToString(payloads.get(i)));
        record.putArray("headers");
      }
    });
    return event.toString();
  }

  @Test
  void selfManagedKafkaEventsCommitOnceOnTheSameLanesAsMsk() throws Exception {
    String app = TestPipeline.uniqueApp("smk");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    InProcessInvoker<KafkaEvent, KafkaBatchResponse> handler =
        new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1);
    String selfManaged = event("SelfManagedKafka", "orders",
        Map.of(0, KinesisEvents.clicks(20, 41), 1, KinesisEvents.clicks(10, 42)), 0);

    String response = handler.invoke(selfManaged);
    String again = handler.invoke(selfManaged);
    handler.invoke(event("aws:kafka", "orders", Map.of(1, KinesisEvents.clicks(5, 43)), 10));

    assertThat(response).contains("\"batchItemFailures\":[]");
    assertThat(again).contains("\"batchItemFailures\":[]");
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(35);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(35);
    assertThat(ReplayTest.lanePositions(app)).isEqualTo(Map.of("kafka:orders-0", "19", "kafka:orders-1", "14"));
    runtime.close();
  }
}
