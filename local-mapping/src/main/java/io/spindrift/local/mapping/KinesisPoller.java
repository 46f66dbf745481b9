package io.spindrift.local.mapping;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.GetRecordsRequest;
import com.amazonaws.services.kinesis.model.GetRecordsResult;
import com.amazonaws.services.kinesis.model.Record;
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

/** Polls one Kinesis shard from its start and builds {@code KinesisEvent} JSON as Lambda sends it. */
final class KinesisPoller implements LanePoller {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final AmazonKinesis kinesis;
  private final String stream;
  private final String shardId;
  private final String streamArn;
  private final String region;
  private String iterator;

  KinesisPoller(AmazonKinesis kinesis, String stream, String shardId, String region, String account) {
    this.kinesis = kinesis;
    this.stream = stream;
    this.shardId = shardId;
    this.region = region;
    this.streamArn = "arn:aws:kinesis:" + region + ":" + account + ":stream/" + stream;
  }

  @Override
  public List<PolledRecord> poll() {
    if (iterator == null) {
      iterator = kinesis.getShardIterator(stream, shardId, "TRIM_HORIZON").getShardIterator();
    }
    GetRecordsResult result = kinesis.getRecords(new GetRecordsRequest().withShardIterator(iterator).withLimit(10_000));
    iterator = result.getNextShardIterator();
    List<PolledRecord> out = new ArrayList<>();
    for (Record record : result.getRecords()) {
      out.add(toPolled(record));
    }
    return out;
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
