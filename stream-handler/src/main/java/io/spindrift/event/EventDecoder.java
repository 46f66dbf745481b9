package io.spindrift.event;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import java.nio.ByteBuffer;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Turns Lambda events into {@link Batch}es (DESIGN §2: lanes and positions). A Kinesis record that is a KPL aggregate
 * becomes its user records ({@link KplAggregate}), or one {@link UndecodableRecord} when it is corrupt.
 */
public final class EventDecoder {
  /** The {@code eventSource} of an Amazon MSK event. */
  public static final String MSK = "aws:kafka";
  /** The {@code eventSource} of a self-managed Apache Kafka event. */
  public static final String SELF_MANAGED_KAFKA = "SelfManagedKafka";

  private EventDecoder() {}

  public static Batch decode(KinesisEvent event) {
    List<SourceRecord> records = new ArrayList<>();
    if (event.getRecords() != null) {
      for (KinesisEvent.KinesisEventRecord record : event.getRecords()) {
        KinesisEvent.Record kinesis = record.getKinesis();
        String eventId = require(record.getEventID(), "eventID");
        int colon = eventId.indexOf(':');
        String shardId = colon < 0 ? eventId : eventId.substring(0, colon);
        String arn = require(record.getEventSourceARN(), "eventSourceARN");
        String stream = arn.substring(arn.indexOf("stream/") + "stream/".length());
        records.addAll(KplAggregate.expand(new KinesisRecord(stream, shardId, kinesis.getPartitionKey(),
            kinesis.getSequenceNumber(),
            kinesis.getApproximateArrivalTimestamp() == null ? 0 : kinesis.getApproximateArrivalTimestamp().getTime(),
            bytes(kinesis.getData()))));
      }
    }
    return new Batch(SourceKind.KINESIS, records);
  }

  /**
   * An MSK event ({@code "eventSource": "aws:kafka"}) or a self-managed Kafka event ({@code "SelfManagedKafka"},
   * which names {@code bootstrapServers} instead of a cluster ARN): the same records keyed {@code
   * <topic>-<partition>}, so the same lanes ({@code kafka:<topic>-<partition>}).
   *
   * @throws IllegalArgumentException for an event of another source (the function is wired to the wrong handler)
   */
  public static Batch decode(KafkaEvent event) {
    String source = event.getEventSource();
    if (source != null && !MSK.equals(source) && !SELF_MANAGED_KAFKA.equals(source)) {
      throw new IllegalArgumentException("A Kafka handler got an event from '" + source + "': it reads \""
          + MSK + "\" (MSK) and \"" + SELF_MANAGED_KAFKA + "\" events; use KinesisHandler for Kinesis");
    }
    List<SourceRecord> records = new ArrayList<>();
    if (event.getRecords() != null) {
      for (Map.Entry<String, List<KafkaEvent.KafkaEventRecord>> partition : event.getRecords().entrySet()) {
        for (KafkaEvent.KafkaEventRecord record : partition.getValue()) {
          records.add(new KafkaRecord(record.getTopic(), record.getPartition(), record.getOffset(),
              record.getTimestamp(), "LOG_APPEND_TIME".equals(record.getTimestampType()) ? 1 : 0,
              base64(record.getKey()), base64(record.getValue()), headers(record.getHeaders())));
        }
      }
    }
    return new Batch(SourceKind.KAFKA, records);
  }

  private static List<Map.Entry<String, byte[]>> headers(List<Map<String, byte[]>> headers) {
    List<Map.Entry<String, byte[]>> out = new ArrayList<>();
    if (headers != null) {
      headers.forEach(map -> map.forEach((k, v) -> out.add(new AbstractMap.SimpleImmutableEntry<>(k, v))));
    }
    return out;
  }

  private static byte[] base64(String value) {
    return value == null ? null : Base64.getDecoder().decode(value);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return new byte[0];
    }
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  private static String require(String value, String field) {
    if (value == null) {
      throw new IllegalArgumentException("Kinesis event record without " + field);
    }
    return value;
  }
}
