package io.spindrift.event;

import com.google.protobuf.InvalidProtocolBufferException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import software.amazon.kinesis.retrieval.AggregatorUtil;
import software.amazon.kinesis.retrieval.kpl.Messages;

/**
 * De-aggregates Kinesis Producer Library (KPL) aggregates: a Kinesis record whose data is the magic bytes {@code F3 89
 * 9A C2}, a protobuf {@code AggregatedRecord} (KPL's format, read with the classes the Kinesis Client Library ships,
 * {@code software.amazon.kinesis.retrieval.kpl.Messages}) and the MD5 of that protobuf. Each user record becomes one
 * {@link KinesisRecord} with the aggregate's sequence number, its index as sub-sequence number, its partition key
 * and explicit hash key from the aggregate's key tables, and the aggregate's arrival time. A record without the
 * magic bytes is a plain record and is returned as it is.
 *
 * <p>A record with the magic bytes that is not a sound aggregate (shorter than magic and trailer, an MD5 that does
 * not match, a protobuf that does not parse, a key index outside its table, no user record) becomes one {@link
 * UndecodableRecord} naming what is wrong: the runtime sends it to the rejects table.
 *
 * <p>Why not the KCL's own {@code AggregatorUtil.deaggregate}: it treats an aggregate whose MD5 does not match or
 * whose protobuf does not parse as a plain record (the aggregate's bytes would become one user record, silently),
 * and on a key index outside its table it logs and drops the rest of the aggregate (its error path also needs
 * {@code javax.xml.bind}, absent from Java 17). Spindrift must send such a record to rejects, never lose it, so it
 * reads the format itself with the KCL's format classes and magic bytes.
 */
public final class KplAggregate {
  private static final byte[] MAGIC = AggregatorUtil.AGGREGATED_RECORD_MAGIC.clone();
  private static final int DIGEST_BYTES = 16;

  private KplAggregate() {}

  /** True when {@code data} starts with the KPL's magic bytes (whether or not the rest is a sound aggregate). */
  public static boolean isAggregate(byte[] data) {
    return data != null && data.length >= MAGIC.length
        && Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  /**
   * The records of {@code record}: its user records when it is a KPL aggregate, itself when it is a plain record or
   * already one user record of an aggregate, one {@link UndecodableRecord} when it is a corrupt aggregate.
   */
  public static List<SourceRecord> expand(KinesisRecord record) {
    if (record.isSubRecord() || !isAggregate(record.data())) {
      return List.of(record);
    }
    try {
      return List.copyOf(userRecords(record));
    } catch (CorruptAggregate e) {
      return List.of(new UndecodableRecord(record, "corrupt KPL aggregate at " + record.lane() + " position "
          + record.sequenceNumber() + ": " + e.getMessage()));
    }
  }

  /** {@code batch} with every Kinesis record expanded as {@link #expand} does, in order. */
  public static Batch expand(Batch batch) {
    if (batch.kind() != SourceKind.KINESIS) {
      return batch;
    }
    List<SourceRecord> out = new ArrayList<>(batch.size());
    for (SourceRecord record : batch.records()) {
      if (record instanceof KinesisRecord kinesis) {
        out.addAll(expand(kinesis));
      } else {
        out.add(record);
      }
    }
    return new Batch(batch.kind(), out);
  }

  private static List<KinesisRecord> userRecords(KinesisRecord outer) throws CorruptAggregate {
    byte[] data = outer.data();
    if (data.length < MAGIC.length + DIGEST_BYTES) {
      throw new CorruptAggregate("truncated: " + data.length + " bytes, shorter than the magic bytes and the "
          + DIGEST_BYTES + "-byte MD5 trailer");
    }
    byte[] message = Arrays.copyOfRange(data, MAGIC.length, data.length - DIGEST_BYTES);
    byte[] trailer = Arrays.copyOfRange(data, data.length - DIGEST_BYTES, data.length);
    if (!MessageDigest.isEqual(md5(message), trailer)) {
      throw new CorruptAggregate("the MD5 trailer does not match the " + message.length
          + "-byte AggregatedRecord (truncated or altered)");
    }
    Messages.AggregatedRecord aggregate;
    try {
      aggregate = Messages.AggregatedRecord.parseFrom(message);
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptAggregate("the AggregatedRecord protobuf does not parse (" + e.getMessage() + ")");
    }
    if (aggregate.getRecordsCount() == 0) {
      throw new CorruptAggregate("the AggregatedRecord holds no user record");
    }
    List<KinesisRecord> out = new ArrayList<>(aggregate.getRecordsCount());
    for (int i = 0; i < aggregate.getRecordsCount(); i++) {
      Messages.Record user = aggregate.getRecords(i);
      String partitionKey = entry(aggregate.getPartitionKeyTableList(), user.getPartitionKeyIndex(),
          "partition key", i);
      String explicitHashKey = user.hasExplicitHashKeyIndex()
          ? entry(aggregate.getExplicitHashKeyTableList(), user.getExplicitHashKeyIndex(), "explicit hash key", i)
          : null;
      out.add(new KinesisRecord(outer.streamName(), outer.shardId(), partitionKey, outer.sequenceNumber(), (long) i,
          explicitHashKey, outer.arrivalMs(), user.getData().toByteArray()));
    }
    return out;
  }

  private static String entry(List<String> table, long index, String what, int record) throws CorruptAggregate {
    if (index < 0 || index >= table.size()) {
      throw new CorruptAggregate("user record " + record + " names " + what + " " + index + " of a table of "
          + table.size());
    }
    return table.get((int) index);
  }

  private static byte[] md5(byte[] bytes) {
    try {
      return MessageDigest.getInstance("MD5").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("This JVM has no MD5", e);
    }
  }

  /** What makes a record with the KPL's magic bytes unreadable. */
  private static final class CorruptAggregate extends Exception {
    CorruptAggregate(String message) {
      super(message, null, false, false);
    }
  }
}
