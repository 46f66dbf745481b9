package io.spindrift.event;

import java.math.BigInteger;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * One newline-delimited record of an S3 object in a batch run over {@code s3://<bucket>/<prefix>} (docs/FANOUT.md).
 * Its lane is {@code s3:<bucket>/<prefix>}; its position orders the input, object by object in key order, then by
 * the line's byte offset: {@code objectIndex × 2^40 + offset} (an object is at most 1 TiB). The job sees it in the
 * schema of {@code kind}, the payload in Kinesis's {@code data} or Kafka's {@code value}: a job written for either
 * stream runs unchanged over files of the same records.
 */
public record S3LineRecord(SourceKind kind, String bucket, String prefix, String key, int objectIndex, long offset,
    long lastModifiedMs, byte[] data) implements SourceRecord {
  /** Bytes an object may have at most (positions keep 40 bits for the offset). */
  public static final long MAX_OBJECT_BYTES = 1L << 40;

  public static String lane(String bucket, String prefix) {
    return "s3:" + bucket + "/" + prefix;
  }

  @Override
  public String lane() {
    return lane(bucket, prefix);
  }

  @Override
  public String position() {
    return BigInteger.valueOf(objectIndex).shiftLeft(40).add(BigInteger.valueOf(offset)).toString();
  }

  @Override
  public long timestampMs() {
    return lastModifiedMs;
  }

  @Override
  public int size() {
    return data.length;
  }

  @Override
  public InternalRow toRow() {
    UTF8String source = UTF8String.fromString("s3://" + bucket + "/" + key);
    UTF8String lane = UTF8String.fromString(lane());
    UTF8String position = UTF8String.fromString(position());
    if (kind == SourceKind.KINESIS) {
      return new GenericInternalRow(new Object[] {
          data, source, UTF8String.fromString(key), position, lastModifiedMs * 1000L, null, lane, position});
    }
    return new GenericInternalRow(new Object[] {
        null, data, source, objectIndex, offset, lastModifiedMs * 1000L, 0, new GenericArrayData(new Object[0]),
        lane, position});
  }
}
