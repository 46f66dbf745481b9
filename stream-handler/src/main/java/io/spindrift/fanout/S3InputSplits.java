package io.spindrift.fanout;

import io.spindrift.event.Batch;
import io.spindrift.event.S3LineRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The input of a batch run over {@code s3://<bucket>/<prefix>} as a manifest of splits ({@link S3Split}): every
 * object under the prefix (in key order; empty objects and folder markers skipped), cut into byte ranges of at most
 * {@code splitBytes}. Records are newline-delimited; a record belongs to the split its first byte is in, so a split reads
 * on past its end to finish its last record and skips the one its predecessor finishes (Hadoop's line-record rule):
 * the splits' records are every record once, whatever the split size. The input is listed once (input objects are
 * listed, never shuffle files) and must not change between a run and its reruns: positions are object index and
 * byte offset. A run larger than one commit is cut into {@link #chunks} of whole splits, each a contiguous range
 * of the lane.
 */
public final class S3InputSplits {
  private final String bucket;
  private final String prefix;
  private final List<S3Split> splits;
  private final int objects;

  private S3InputSplits(String bucket, String prefix, List<S3Split> splits, int objects) {
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
    List<S3Split> splits = new ArrayList<>();
    for (int index = 0; index < listed.size(); index++) {
      S3Object object = listed.get(index);
      if (object.size() > S3LineRecord.MAX_OBJECT_BYTES) {
        throw new IllegalArgumentException("Invalid input object s3://" + bucket + "/" + object.key() + ": "
            + object.size() + " bytes > " + S3LineRecord.MAX_OBJECT_BYTES);
      }
      for (long start = 0; start < object.size(); start += splitBytes) {
        splits.add(new S3Split(bucket, prefix, object.key(), index, start,
            Math.min(object.size(), start + splitBytes), object.lastModified().toEpochMilli()));
      }
    }
    return new S3InputSplits(bucket, prefix, splits, listed.size());
  }

  /** The lane the run commits: {@code s3:<bucket>/<prefix>}. */
  public String lane() {
    return S3LineRecord.lane(bucket, prefix);
  }

  public List<S3Split> splits() {
    return splits;
  }

  /** Objects under the prefix. */
  public int objects() {
    return objects;
  }

  /**
   * {@code splits} cut into chunks of whole splits, in order, each of at most {@code maxBytes} (a split larger than
   * that is a chunk of its own): each chunk is one commit, a contiguous range of the lane.
   *
   * @throws IllegalArgumentException for {@code maxBytes} below 1
   */
  public static List<List<S3Split>> chunks(List<S3Split> splits, long maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("Invalid bytes per commit: " + maxBytes);
    }
    List<List<S3Split>> chunks = new ArrayList<>();
    List<S3Split> chunk = new ArrayList<>();
    long bytes = 0;
    for (S3Split split : splits) {
      long length = split.end() - split.start();
      if (!chunk.isEmpty() && bytes + length > maxBytes) {
        chunks.add(List.copyOf(chunk));
        chunk.clear();
        bytes = 0;
      }
      chunk.add(split);
      bytes += length;
    }
    chunks.add(List.copyOf(chunk));
    return chunks;
  }

  /** Every record of {@code splits}, in position order, as one batch the job sees as {@code kind}'s input. */
  public static Batch records(S3Client s3, List<S3Split> splits, SourceKind kind) {
    return new Batch(kind, S3Split.read(s3, splits, kind, null));
  }

  /**
   * {@code splits} themselves as one batch (one item per split, {@link S3Split}): what a fanned-out run hands the
   * protocol, whose map children read the records.
   */
  public static Batch manifest(List<S3Split> splits, SourceKind kind) {
    return new Batch(kind, new ArrayList<SourceRecord>(splits));
  }
}
