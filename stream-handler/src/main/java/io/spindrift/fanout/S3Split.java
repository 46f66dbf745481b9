package io.spindrift.fanout;

import io.spindrift.commit.LaneRange;
import io.spindrift.event.S3LineRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Bytes {@code [start, end)} of object {@code key}, the {@code objectIndex}-th under {@code s3://<bucket>/<prefix>}:
 * one split of a batch run's input ({@link S3InputSplits}), and what a map child is sent instead of records. In a
 * batch it stands for the records whose first byte is in it: its lane is theirs and its position the last one they
 * may have ({@code objectIndex × 2^40 + end - 1}), so a commit of whole splits moves the lane past every record
 * they hold, and a rerun's protocol drops a split whose position is at or below the lane's. It has no row of its
 * own: read it ({@link #read}) to run its records.
 */
public record S3Split(String bucket, String prefix, String key, int objectIndex, long start, long end,
    long lastModifiedMs) implements SourceRecord {
  private static final int NEWLINE = '\n';

  @Override
  public String lane() {
    return S3LineRecord.lane(bucket, prefix);
  }

  @Override
  public String position() {
    return BigInteger.valueOf(objectIndex).shiftLeft(40).add(BigInteger.valueOf(end - 1)).toString();
  }

  @Override
  public long timestampMs() {
    return lastModifiedMs;
  }

  /** The split's length in bytes (at most Integer.MAX_VALUE: the size of a record, for fan-out's byte limit). */
  @Override
  public int size() {
    return (int) Math.min(Integer.MAX_VALUE, end - start);
  }

  /** @throws IllegalStateException always: a split stands for its records; {@link #read} them first */
  @Override
  public InternalRow toRow() {
    throw new IllegalStateException("Split s3://" + bucket + "/" + key + " [" + start + ", " + end
        + ") has no row of its own: its records are read first (S3Split.read)");
  }

  /**
   * The records of {@code splits} after position {@code after} (the lane's committed position; null for none), in
   * position order, seen as {@code kind}'s input.
   */
  public static List<SourceRecord> read(S3Client s3, List<S3Split> splits, SourceKind kind, String after) {
    List<SourceRecord> out = new ArrayList<>();
    for (S3Split split : splits) {
      for (SourceRecord record : split.read(s3, kind)) {
        if (after == null || LaneRange.compare(record.position(), after) > 0) {
          out.add(record);
        }
      }
    }
    return out;
  }

  /**
   * The records whose first byte is in this split: one ranged GET from the byte before its start, on past its end
   * to finish its last record (Hadoop's line-record rule); the rest of the object is not downloaded.
   */
  public List<SourceRecord> read(S3Client s3, SourceKind kind) {
    long from = start == 0 ? 0 : start - 1;
    List<SourceRecord> out = new ArrayList<>();
    try (ResponseInputStream<GetObjectResponse> response = s3.getObject(b -> b.bucket(bucket).key(key)
        .range("bytes=" + from + "-"))) {
      InputStream in = new BufferedInputStream(response, 1 << 16);
      long at = from;
      if (start > 0) {
        int b;
        do {
          b = in.read();
          at++;
        } while (b != NEWLINE && b >= 0);
        if (b < 0) {
          response.abort();
          return out;
        }
      }
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      while (at < end) {
        long lineStart = at;
        line.reset();
        int b;
        while ((b = in.read()) >= 0 && b != NEWLINE) {
          line.write(b);
        }
        at += line.size() + (b == NEWLINE ? 1 : 0);
        byte[] data = withoutCarriageReturn(line.toByteArray());
        if (data.length > 0) {
          out.add(new S3LineRecord(kind, bucket, prefix, key, objectIndex, lineStart, lastModifiedMs, data));
        }
        if (b < 0) {
          break;
        }
      }
      response.abort(); // the rest of the object belongs to later splits
    } catch (IOException e) {
      throw new UncheckedIOException("Reading s3://" + bucket + "/" + key + " from byte " + from, e);
    }
    return out;
  }

  private static byte[] withoutCarriageReturn(byte[] line) {
    return line.length > 0 && line[line.length - 1] == '\r' ? Arrays.copyOf(line, line.length - 1) : line;
  }
}
