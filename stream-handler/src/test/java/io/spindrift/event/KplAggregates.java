package io.spindrift.event;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import software.amazon.kinesis.retrieval.AggregatorUtil;
import software.amazon.kinesis.retrieval.kpl.Messages;

/**
 * Builds KPL aggregates as the Kinesis Producer Library writes them: an {@code AggregatedRecord} built with the
 * KPL format's own protobuf classes (as the KCL ships them), framed by the magic bytes and the MD5 trailer.
 */
final class KplAggregates {
  private final List<String> partitionKeys = new ArrayList<>();
  private final List<String> hashKeys = new ArrayList<>();
  private final Messages.AggregatedRecord.Builder aggregate = Messages.AggregatedRecord.newBuilder();

  /** Adds a user record with {@code partitionKey} (and {@code explicitHashKey}, when not null). */
  KplAggregates add(String partitionKey, String explicitHashKey, String data) {
    Messages.Record.Builder record = Messages.Record.newBuilder()
        .setPartitionKeyIndex(index(partitionKeys, partitionKey))
        .setData(ByteString.copyFrom(data, StandardCharsets.UTF_8));
    if (explicitHashKey != null) {
      record.setExplicitHashKeyIndex(index(hashKeys, explicitHashKey));
    }
    aggregate.addRecords(record);
    return this;
  }

  /** The aggregate's protobuf, without framing. */
  byte[] message() {
    return aggregate.clone().clearPartitionKeyTable().addAllPartitionKeyTable(partitionKeys)
        .clearExplicitHashKeyTable().addAllExplicitHashKeyTable(hashKeys).build().toByteArray();
  }

  /** The Kinesis record data: magic bytes, the protobuf, its MD5. */
  byte[] bytes() {
    return frame(message());
  }

  /** {@code message} framed as the KPL frames an aggregate (whether or not it is a sound protobuf). */
  static byte[] frame(byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(AggregatorUtil.AGGREGATED_RECORD_MAGIC);
    out.writeBytes(message);
    out.writeBytes(md5(message));
    return out.toByteArray();
  }

  private static long index(List<String> table, String key) {
    int at = table.indexOf(key);
    if (at < 0) {
      table.add(key);
      at = table.size() - 1;
    }
    return at;
  }

  private static byte[] md5(byte[] bytes) {
    try {
      return MessageDigest.getInstance("MD5").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
