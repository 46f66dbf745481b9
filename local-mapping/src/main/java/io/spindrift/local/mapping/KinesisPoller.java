package io.spindrift.local.mapping;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.ExpiredIteratorException;
import com.amazonaws.services.kinesis.model.GetRecordsRequest;
import com.amazonaws.services.kinesis.model.GetRecordsResult;
import com.amazonaws.services.kinesis.model.GetShardIteratorRequest;
import com.amazonaws.services.kinesis.model.Record;
import com.amazonaws.services.kinesis.model.ShardIteratorType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.event.KinesisRecord;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Polls one Kinesis shard from its start and builds {@code KinesisEvent} JSON as Lambda sends it. A shard closed by
 * a reshard ends when GetRecords returns no next iterator: the poller is then exhausted and never opens the shard
 * again. An expired iterator (ExpiredIteratorException: an invocation or a frozen container outlasted it) is
 * renewed after the last record this poller returned (the mapping holds every record it has read until it is
 * delivered), so no record is skipped or read twice.
 */
final class KinesisPoller implements LanePoller {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final AmazonKinesis kinesis;
  private final String stream;
  private final String shardId;
  private final String streamArn;
  private final String region;
  /** The next read's iterator; null before the first read and after an expiry. */
  private String iterator;
  private String lastSequenceNumber;
  private boolean closed;

  KinesisPoller(AmazonKinesis kinesis, String stream, String shardId, String region, String account) {
    this.kinesis = kinesis;
    this.stream = stream;
    this.shardId = shardId;
    this.region = region;
    this.streamArn = "arn:aws:kinesis:" + region + ":" + account + ":stream/" + stream;
  }

  @Override
  public List<PolledRecord> poll(int maxRecords) {
    if (closed) {
      return List.of();
    }
    if (iterator == null) {
      iterator = kinesis.getShardIterator(iteratorRequest()).getShardIterator();
    }
    GetRecordsResult result;
    try {
      result = kinesis.getRecords(new GetRecordsRequest().withShardIterator(iterator).withLimit(maxRecords));
    } catch (ExpiredIteratorException expired) {
      iterator = null;
      return List.of();
    }
    iterator = result.getNextShardIterator();
    closed = iterator == null;
    List<PolledRecord> out = new ArrayList<>();
    for (Record record : result.getRecords()) {
      out.add(toPolled(record));
      lastSequenceNumber = record.getSequenceNumber();
    }
    return out;
  }

  /** From the shard's start, or right after the last record returned when an expired iterator is renewed. */
  private GetShardIteratorRequest iteratorRequest() {
    GetShardIteratorRequest request = new GetShardIteratorRequest().withStreamName(stream).withShardId(shardId);
    return lastSequenceNumber == null
        ? request.withShardIteratorType(ShardIteratorType.TRIM_HORIZON)
        : request.withShardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER)
            .withStartingSequenceNumber(lastSequenceNumber);
  }

  @Override
  public boolean exhausted() {
    return closed;
  }

  private PolledRecord toPolled(Record record) {
    byte[] data = bytes(record.getData());
    long arrivalMs = record.getApproximateArrivalTimestamp().getTime();
    ObjectNode kinesisNode = JSON.createObjectNode();
    kinesisNode.put("kinesisSchemaVersion", "1.0");
    kinesisNode.put("partitionKey", record.getPartitionKey());
    kinesisNode.put("sequenceNumber", record.getSequenceNumber());
    kinesisNode.put("data", Base64.getEncoder().encodeToString(data));
    kinesisNode.put("approximateArrivalTimestamp", BigDecimal.valueOf(arrivalMs).movePointLeft(3));
    ObjectNode event = JSON.createObjectNode();
    event.set("kinesis", kinesisNode);
    event.put("eventSource", "aws:kinesis");
    event.put("eventVersion", "1.0");
    event.put("eventID", shardId + ":" + record.getSequenceNumber());
    event.put("eventName", "aws:kinesis:record");
    event.put("invokeIdentityArn", "arn:aws:iam::000000000000:role/spindrift-local");
    event.put("awsRegion", region);
    event.put("eventSourceARN", streamArn);
    return new PolledRecord(KinesisRecord.lane(stream, shardId), record.getSequenceNumber(), arrivalMs, data.length,
        event);
  }

  @Override
  public String eventJson(List<PolledRecord> records) {
    ObjectNode event = JSON.createObjectNode();
    ArrayNode array = event.putArray("Records");
    records.forEach(r -> array.add(r.json()));
    return event.toString();
  }

  @Override
  public List<String[]> failedItems(String responseJson, List<PolledRecord> batch) throws Exception {
    List<String[]> failed = new ArrayList<>();
    JsonNode failures = JSON.readTree(responseJson).path("batchItemFailures");
    for (JsonNode failure : failures) {
      JsonNode id = failure.get("itemIdentifier");
      if (id == null || !id.isTextual() || id.asText().isEmpty()) {
        // AWS treats a null, empty or malformed identifier as a failure of the whole batch
        failed.add(new String[] {batch.get(0).lane(), batch.get(0).position()});
      } else {
        failed.add(new String[] {KinesisRecord.lane(stream, shardId), id.asText()});
      }
    }
    return failed;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  @Override
  public void close() {}
}
