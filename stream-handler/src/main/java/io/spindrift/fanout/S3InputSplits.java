package io.spindrift.fanout;

import io.spindrift.event.Batch;
import io.spindrift.event.S3LineRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The input of a batch run over {@code s3://<bucket>/<prefix>} as a manifest of splits: every object under the
 * prefix (in key order; empty objects and folder markers skipped), cut into byte ranges of at most {@code
 * splitBytes}. Records are newline-delimited; a record belongs to the split its first byte is in, so a split reads
 * on past its end to finish its last record and skips the one its predecessor finishes (Hadoop's line-record rule):
 * the splits' records are every record once, whatever the split size. The input is listed once (input objects are
 * listed, never shuffle files) and must not change between a run and its reruns: positions are object index and
 * byte offset.
 */
public final class S3InputSplits {
  private static final int NEWLINE = '\n';

  /** Bytes {@code [start, end)} of object {@code key}, the {@code objectIndex}-th under the prefix. */
  public record Split(String key, int objectIndex, long start, long end, long lastModifiedMs) {}

  private final String bucket;
  private final String prefix;
  private final List<Split> splits;
  private final int objects;

  private S3InputSplits(String bucket, String prefix, List<Split> splits, int objects) {
    this.bucket = bucket;
    this.prefix = prefix;
    this.splits = List.copyOf(splits);
    this.objects = objects;
  }

  /**
   * Lists {@code uri} ({@code s3://<bucket>/<prefix>}) and cuts its objects into splits.
   *
   * @throws IllegalArgumentException for a URI that is not {@code s3://bucket/...}, a split size below 1, an
   *     object over {@link S3LineRecord#MAX_OBJECT_BYTES}, or a prefix with no object
   */
  public static S3InputSplits plan(S3Client s3, String uri, long splitBytes) {
    if (!uri.startsWith("s3://") || uri.length() <= "s3://".length()) {
      throw new IllegalArgumentException("Invalid input: " + uri + " (expected s3://<bucket>/<prefix>)");
    }
    if (splitBytes < 1) {
      throw new IllegalArgumentException("Invalid split size: " + splitBytes + " bytes");
    }
    String path = uri.substring("s3://".length());
    int slash = path.indexOf('/');
    String bucket = slash < 0 ? path : path.substring(0, slash);
    String prefix = slash < 0 ? "" : path.substring(slash + 1);
    List<S3Object> listed = new ArrayList<>();
    s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().forEach(object -> {
      if (object.size() > 0 && !object.key().endsWith("/")) {
        listed.add(object);
      }
    });
    if (listed.isEmpty()) {
      throw new IllegalArgumentException("Invalid input: no object under " + uri);
    }
    listed.sort(Comparator.comparing(S3Object::key));
    List<Split> splits = new ArrayList<>();
    for (int index = 0; index < listed.size(); index++) {
      S3Object object = listed.get(index);
      if (object.size() > S3LineRecord.MAX_OBJECT_BYTES) {
        throw new IllegalArgumentException("Invalid input object s3://" + bucket + "/" + object.key() + ": "
            + object.size() + " bytes > " + S3LineRecord.MAX_OBJECT_BYTES);
      }
      for (long start = 0; start < object.size(); start += splitBytes) {
        splits.add(new Split(object.key(), index, start, Math.min(object.size(), start + splitBytes),
            object.lastModified().toEpochMilli()));
      }
    }
    return new S3InputSplits(bucket, prefix, splits, listed.size());
  }

  /** The lane the run commits: {@code s3:<bucket>/<prefix>}. */
  public String lane() {
    return S3LineRecord.lane(bucket, prefix);
  }

  public List<Split> splits() {
    return splits;
  }

  /** Objects under the prefix. */
  public int objects() {
    return objects;
  }

  /** Every split's records, in position order, as one batch the job sees as {@code kind}'s input. */
  public Batch batch(S3Client s3, SourceKind kind) {
    List<SourceRecord> records = new ArrayList<>();
    for (Split split : splits) {
      records.addAll(read(s3, split, kind));
    }
    return new Batch(kind, records);
  }

  /** The records whose first byte is in {@code split} (a ranged GET from the byte before its start). */
  public List<SourceRecord> read(S3Client s3, Split split, SourceKind kind) {
    long from = split.start() == 0 ? 0 : split.start() - 1;
    List<SourceRecord> out = new ArrayList<>();
    try (ResponseInputStream<GetObjectResponse> response = s3.getObject(b -> b.bucket(bucket).key(split.key())
        .range("bytes=" + from + "-"))) {
      InputStream in = new BufferedInputStream(response, 1 << 16);
      long at = from;
      if (split.start() > 0) {
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
      while (at < split.end()) {
        long lineStart = at;
        line.reset();
        int b;
        while ((b = in.read()) >= 0 && b != NEWLINE) {
          line.write(b);
        }
        at += line.size() + (b == NEWLINE ? 1 : 0);
        byte[] data = withoutCarriageReturn(line.toByteArray());
        if (data.length > 0) {
          out.add(new S3LineRecord(kind, bucket, prefix, split.key(), split.objectIndex(), lineStart,
              split.lastModifiedMs(), data));
        }
        if (b < 0) {
          break;
        }
      }
      response.abort(); // the rest of the object belongs to later splits
    } catch (IOException e) {
      throw new UncheckedIOException("Reading s3://" + bucket + "/" + split.key() + " from byte " + from, e);
    }
    return out;
  }

  private static byte[] withoutCarriageReturn(byte[] line) {
    return line.length > 0 && line[line.length - 1] == '\r' ? java.util.Arrays.copyOf(line, line.length - 1) : line;
  }
}
