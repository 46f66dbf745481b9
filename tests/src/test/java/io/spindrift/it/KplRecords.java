package io.spindrift.it;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import software.amazon.kinesis.retrieval.AggregatorUtil;
import software.amazon.kinesis.retrieval.kpl.Messages;

/**
 * KPL aggregates as the Kinesis Producer Library puts them into a stream: user records in an {@code AggregatedRecord}
 * built with the KPL format's protobuf classes (as the KCL ships them), framed by the magic bytes and the MD5 of the
 * protobuf. The Kinesis record's partition key is the first user record's, as the KPL sends it.
 */
final class KplRecords {
  private KplRecords() {}

  /** One aggregate of {@code payloads} with their partition keys {@code keys}. */
  static byte[] aggregate(List<String> keys, List<byte[]> payloads) {
    List<String> table = new ArrayList<>();
    Messages.AggregatedRecord.Builder aggregate = Messages.AggregatedRecord.newBuilder();
    for (int i = 0; i < payloads.size(); i++) {
      int index = table.indexOf(keys.get(i));
      if (index < 0) {
        table.add(keys.get(i));
        index = table.size() - 1;
      }
      aggregate.addRecords(Messages.Record.newBuilder().setPartitionKeyIndex(index)
          .setData(ByteString.copyFrom(payloads.get(i))));
    }
    byte[] message = aggregate.addAllPartitionKeyTable(table).build().toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(AggregatorUtil.AGGREGATED_RECORD_MAGIC);
    out.writeBytes(message);
    out.writeBytes(md5(message));
    return out.toByteArray();
  }

  private static byte[] md5(byte[] bytes) {
    try {
      return MessageDigest.getInstance("MD5").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
