package io.spindrift.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.event.Batch;
import io.spindrift.event.KafkaRecord;
import io.spindrift.event.KinesisRecord;
import io.spindrift.event.SourceRecord;
import java.math.BigDecimal;
import java.util.Base64;
import java.util.Map;

/**
 * A batch as the event Lambda's event-source mapping sends: a {@code KinesisEvent} ({@code Records}, {@code eventID
 * <shard>:<sequence>}, the stream's ARN) or an MSK {@code KafkaEvent} ({@code records} keyed {@code <topic>-<n>},
 * base64 key and value). The handlers decode both with {@code aws-lambda-java-serialization}, as in AWS.
 */
final class LambdaEvents {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String region;
  private final String account;

  LambdaEvents(String region, String account) {
    this.region = region;
    this.account = account;
  }

  /** The event JSON of {@code batch}. */
  String encode(Batch batch) {
    return switch (batch.kind()) {
      case KINESIS -> kinesis(batch);
      case KAFKA -> kafka(batch);
    };
  }

  private String kinesis(Batch batch) {
    ObjectNode event = JSON.createObjectNode();
    ArrayNode records = event.putArray("Records");
    for (SourceRecord source : batch.records()) {
      KinesisRecord record = (KinesisRecord) source;
      ObjectNode kinesis = JSON.createObjectNode();
      kinesis.put("kinesisSchemaVersion", "1.0");
      kinesis.put("partitionKey", record.partitionKey());
      kinesis.put("sequenceNumber", record.sequenceNumber());
      kinesis.put("data", Base64.getEncoder().encodeToString(record.data()));
      kinesis.put("approximateArrivalTimestamp", BigDecimal.valueOf(record.arrivalMs()).movePointLeft(3));
      ObjectNode node = records.addObject();
      node.set("kinesis", kinesis);
      node.put("eventSource", "aws:kinesis");
      node.put("eventVersion", "1.0");
      node.put("eventID", record.shardId() + ":" + record.sequenceNumber());
      node.put("eventName", "aws:kinesis:record");
      node.put("invokeIdentityArn", "arn:aws:iam::" + account + ":role/spindrift-replay");
      node.put("awsRegion", region);
      node.put("eventSourceARN", "arn:aws:kinesis:" + region + ":" + account + ":stream/" + record.streamName());
    }
    return event.toString();
  }

  private String kafka(Batch batch) {
    ObjectNode event = JSON.createObjectNode();
    event.put("eventSource", "aws:kafka");
    event.put("eventSourceArn", "arn:aws:kafka:" + region + ":" + account + ":cluster/spindrift-replay");
    ObjectNode byPartition = event.putObject("records");
    for (SourceRecord source : batch.records()) {
      KafkaRecord record = (KafkaRecord) source;
      ObjectNode node = JSON.createObjectNode();
      node.put("topic", record.topic());
      node.put("partition", record.partition());
      node.put("offset", record.offset());
      node.put("timestamp", record.timestampMs());
      node.put("timestampType", record.timestampType() == 1 ? "LOG_APPEND_TIME" : "CREATE_TIME");
      node.put("key", record.key() == null ? null : Base64.getEncoder().encodeToString(record.key()));
      node.put("value", record.value() == null ? null : Base64.getEncoder().encodeToString(record.value()));
      ArrayNode headers = node.putArray("headers");
      for (Map.Entry<String, byte[]> header : record.headers()) {
        ArrayNode bytes = headers.addObject().putArray(header.getKey());
        for (byte b : header.getValue()) {
          bytes.add(b);
        }
      }
      String key = record.topic() + "-" + record.partition();
      JsonNode list = byPartition.get(key);
      (list == null ? byPartition.putArray(key) : (ArrayNode) list).add(node);
    }
    return event.toString();
  }

  /** The positions a handler's response reports as failed ({@code batchItemFailures[].itemIdentifier}). */
  static java.util.List<String> failures(String response) {
    java.util.List<String> out = new java.util.ArrayList<>();
    try {
      JsonNode failures = JSON.readTree(response == null || response.isBlank() ? "{}" : response)
          .path("batchItemFailures");
      failures.forEach(failure -> out.add(failure.path("itemIdentifier").asText()));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("the function's response is not JSON: " + response, e);
    }
    return out;
  }
}
