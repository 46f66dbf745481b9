package io.spindrift.sink.maintenance;

import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Collects an app's stage prefix ({@code s3://<bucket>/<app>/stage/}): the stage objects of published commits and
 * of batches that never committed. This replaces a blind S3 lifecycle expiry of the prefix, which would also expire
 * what an unpublished commit references (Hudi stage files, Delta upsert stages, large Iceberg stage documents,
 * spilled state deltas and commit stages). An object is deleted only if {@link ProtectedObjects#mayDelete}: it is
 * older than the cutoff and no unpublished commit references it or its stage directory.
 *
 * <p>Order matters and is the caller's: {@link #list} first, then read the commit log for {@link ProtectedObjects}
 * (with a cutoff fixed before that read), then {@link #delete}. An object listed and older than the cutoff was
 * written more than a Lambda's longest run before the log was read, so its commit, if it ever commits, is in
 * the log that was read.
 */
public final class StageCollector {
  private static final int DELETE_BATCH = 1000;

  private final S3Client s3;
  private final String bucket;
  private final String prefix;

  /**
   * @param s3 client used to list and delete (not closed here)
   * @param stageLocation the app's stage location, {@code s3://<bucket>/<app>/stage}
   */
  public StageCollector(S3Client s3, String stageLocation) {
    String normalized = ProtectedObjects.normalize(stageLocation);
    int slash = normalized.indexOf('/');
    if (slash <= 0 || slash == normalized.length() - 1) {
      throw new IllegalArgumentException("Invalid stage location: '" + stageLocation + "'");
    }
    this.s3 = s3;
    this.bucket = normalized.substring(0, slash);
    this.prefix = normalized.substring(slash + 1) + "/";
  }

  /** One stage object as listed. */
  public record StageObject(String location, long lastModifiedMs) {}

  /** Every object under the stage prefix now. */
  public List<StageObject> list() {
    List<StageObject> out = new ArrayList<>();
    for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
      out.add(new StageObject(bucket + "/" + object.key(), object.lastModified().toEpochMilli()));
    }
    return out;
  }

  /**
   * Deletes the objects of {@code listed} that {@code keep} allows deleting.
   *
   * @return how many were deleted
   */
  public int delete(List<StageObject> listed, ProtectedObjects keep) {
    List<ObjectIdentifier> batch = new ArrayList<>();
    int deleted = 0;
    for (StageObject object : listed) {
      if (keep.mayDelete(object.location(), object.lastModifiedMs())) {
        batch.add(ObjectIdentifier.builder().key(object.location().substring(bucket.length() + 1)).build());
        if (batch.size() == DELETE_BATCH) {
          deleted += deleteBatch(batch);
        }
      }
    }
    return deleted + deleteBatch(batch);
  }

  /** The stage directory ({@code bucket/<app>/stage/<id>/}) an object under the prefix is in; null otherwise. */
  public String directoryOf(String location) {
    String key = ProtectedObjects.normalize(location);
    String root = bucket + "/" + prefix;
    if (!key.startsWith(root)) {
      return null;
    }
    int slash = key.indexOf('/', root.length());
    return slash < 0 ? null : key.substring(0, slash + 1);
  }

  /** The stage directory of a transaction id: {@code bucket/<app>/stage/<txnId>/}. */
  public String directoryOfTransaction(String txnId) {
    return bucket + "/" + prefix + txnId + "/";
  }

  private int deleteBatch(List<ObjectIdentifier> batch) {
    if (batch.isEmpty()) {
      return 0;
    }
    List<ObjectIdentifier> keys = List.copyOf(batch);
    batch.clear();
    var response = s3.deleteObjects(b -> b.bucket(bucket).delete(Delete.builder().objects(keys).quiet(true).build()));
    if (response.hasErrors() && !response.errors().isEmpty()) {
      throw new IllegalStateException("Could not delete " + response.errors().size() + " stage objects of s3://"
          + bucket + "/" + prefix + ", e.g. " + response.errors().get(0).key() + ": " + response.errors().get(0).message());
    }
    return keys.size();
  }
}
