package io.spindrift.commit;

/**
 * A state bucket a bucket commit writes ({@link CommitLog#tryCommitBuckets}): the bucket's number and the version
 * the batch read before it ran. The commit is conditioned on the bucket still being at {@code read} and moves it to
 * {@link #next()}; two commits that write one bucket therefore never both commit from the same version, and the
 * one that commits second read state that includes the first (DESIGN §5, per-partition heads).
 *
 * @param bucket the bucket: a Spark state partition folded onto at most {@link CommitLog#MAX_BUCKETS} items
 * @param read the version read (0: the bucket was never written)
 */
public record BucketVersion(int bucket, long read) {
  public BucketVersion {
    if (bucket < 0 || read < 0) {
      throw new IllegalArgumentException("Invalid bucket version: bucket " + bucket + ", version " + read);
    }
  }

  /** The version the commit leaves the bucket at. */
  public long next() {
    return read + 1;
  }

  /** {@code bucket:read}, as commit items keep it. */
  @Override
  public String toString() {
    return bucket + ":" + read;
  }

  /** The bucket version {@link #toString()} wrote. */
  public static BucketVersion parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("Invalid bucket version: '" + text + "' (expected bucket:version)");
    }
    return new BucketVersion(Integer.parseInt(text.substring(0, colon)), Long.parseLong(text.substring(colon + 1)));
  }
}
