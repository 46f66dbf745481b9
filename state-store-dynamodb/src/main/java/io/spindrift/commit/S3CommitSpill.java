package io.spindrift.commit;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * The {@link CommitSpill} on S3: {@code s3://<bucket>/<app>/stage/<txnId>/commit-stages.json}, beside the rest of
 * the transaction's stage (the app's stage location).
 */
public final class S3CommitSpill implements CommitSpill {
  private static final String SCHEME = "s3://";
  private static final String OBJECT = "commit-stages.json";

  private final S3Client s3;
  private final String bucket;

  /**
   * @param s3 the client objects are written and read with (not closed here)
   * @param bucket the app's bucket (SPINDRIFT_BUCKET)
   */
  public S3CommitSpill(S3Client s3, String bucket) {
    if (bucket == null || bucket.isBlank() || bucket.contains("/")) {
      throw new IllegalArgumentException("Invalid commit spill bucket: '" + bucket + "'");
    }
    this.s3 = s3;
    this.bucket = bucket;
  }

  @Override
  public String put(String app, String txnId, byte[] stages) {
    checkName("app", app);
    checkName("transaction id", txnId);
    String key = app + "/stage/" + txnId + "/" + OBJECT;
    s3.putObject(b -> b.bucket(bucket).key(key).contentType("application/json"), RequestBody.fromBytes(stages));
    return SCHEME + bucket + "/" + key;
  }

  @Override
  public byte[] get(String ref) {
    int slash = ref.startsWith(SCHEME) ? ref.indexOf('/', SCHEME.length()) : -1;
    if (slash <= SCHEME.length() || slash == ref.length() - 1) {
      throw new IllegalArgumentException("Invalid commit stages reference: '" + ref + "' (expected s3://<bucket>/<key>)");
    }
    String objectBucket = ref.substring(SCHEME.length(), slash);
    String key = ref.substring(slash + 1);
    try {
      return s3.getObjectAsBytes(b -> b.bucket(objectBucket).key(key)).asByteArray();
    } catch (NoSuchKeyException e) {
      throw new IllegalStateException("Commit stages " + ref + " are missing, but a commit points at them: the stage"
          + " objects of unpublished commits must not be expired or deleted", e);
    }
  }

  private static void checkName(String what, String value) {
    if (value == null || value.isBlank() || value.contains("/")) {
      throw new IllegalArgumentException("Invalid " + what + ": '" + value + "'");
    }
  }
}
