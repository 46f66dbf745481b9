package io.spindrift.state;

import java.util.HexFormat;
import java.util.List;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Where state too large for DynamoDB goes: immutable S3 objects, each written before anything durable points at
 * it and named so that repeating the same write (a retried or concurrent apply of the same commit, a retried
 * staging of the same transaction) writes the same name with the same bytes.
 *
 * <ul>
 *   <li>A state row whose key and value exceed {@link StateTable#MAX_ROW_BYTES} keeps its value in {@link
 *       #rowObject} ({@code <stateLocation>/<operator>/<store>/<partition>/<sha256(key)>-<seq>.bin}); the
 *       DynamoDB item holds the object's URI instead of the value.
 *   <li>A commit whose encoded state deltas are too large for its commit record keeps them in {@link
 *       #stageDeltas} ({@code <stageLocation>/<txnId>/state-deltas.bin}); the commit record holds the URI.
 * </ul>
 *
 * <p>Nothing here deletes: a row object superseded by a later commit (or left by a stalled applier whose write
 * lost) stays, since a reader may be fetching it; staged deltas stay with the rest of the transaction's stage.
 */
public final class StateSpill {
  private static final String SCHEME = "s3://";
  private static final String STAGED_DELTAS = "state-deltas.bin";

  private final S3Client s3;
  private final String stateLocation;
  private final String stageLocation;

  /**
   * @param s3 the client objects are written and read with (not closed here)
   * @param stateLocation where row values go, e.g. {@code s3://bucket/app/state}
   * @param stageLocation where transactions stage, e.g. {@code s3://bucket/app/stage}
   */
  public StateSpill(S3Client s3, String stateLocation, String stageLocation) {
    this.s3 = s3;
    this.stateLocation = checkLocation(stateLocation);
    this.stageLocation = checkLocation(stageLocation);
  }

  /** The object holding the value commit {@code seq} wrote for {@code key} in {@code bucket}. */
  String rowObject(StateBucket bucket, KeyBytes key, long seq) {
    return stateLocation + "/" + bucket.operatorId() + "/" + bucket.storeName() + "/" + bucket.partition() + "/"
        + HexFormat.of().formatHex(StateTable.sha256(key.bytes())) + "-" + seq + ".bin";
  }

  /**
   * Writes a transaction's encoded state deltas ({@link StateDeltaCodec}) and returns the object's URI, for the
   * commit record. Call it before committing: a commit record must never point at a missing object.
   */
  public String stageDeltas(String txnId, byte[] encoded) {
    if (txnId == null || txnId.isBlank() || txnId.contains("/")) {
      throw new IllegalArgumentException("Invalid transaction id: '" + txnId + "'");
    }
    String uri = stageLocation + "/" + txnId + "/" + STAGED_DELTAS;
    write(uri, encoded);
    return uri;
  }

  /** The deltas {@link #stageDeltas} wrote to {@code uri}. */
  public List<StateDelta> stagedDeltas(String uri) {
    return StateDeltaCodec.decode(read(uri));
  }

  void write(String uri, byte[] bytes) {
    String[] where = bucketAndKey(uri);
    s3.putObject(b -> b.bucket(where[0]).key(where[1]), RequestBody.fromBytes(bytes));
  }

  byte[] read(String uri) {
    String[] where = bucketAndKey(uri);
    try {
      return s3.getObjectAsBytes(b -> b.bucket(where[0]).key(where[1])).asByteArray();
    } catch (NoSuchKeyException e) {
      throw new IllegalStateException("State object " + uri + " is missing, but durable state points at it: objects"
          + " under " + stateLocation + " and staged deltas of unpublished commits must not be deleted", e);
    }
  }

  private static String checkLocation(String location) {
    String trimmed = location == null ? "" : location.replaceAll("/+$", "");
    if (!trimmed.startsWith(SCHEME) || trimmed.indexOf('/', SCHEME.length()) <= SCHEME.length()) {
      throw new IllegalArgumentException("Invalid state spill location: '" + location
          + "' (expected s3://<bucket>/<prefix>)");
    }
    return trimmed;
  }

  /** {@code s3://b/k/ey} as {@code [b, k/ey]}. */
  private static String[] bucketAndKey(String uri) {
    int slash = uri.startsWith(SCHEME) ? uri.indexOf('/', SCHEME.length()) : -1;
    if (slash <= SCHEME.length() || slash == uri.length() - 1) {
      throw new IllegalArgumentException("Invalid state object URI: '" + uri + "' (expected s3://<bucket>/<key>)");
    }
    return new String[] {uri.substring(SCHEME.length(), slash), uri.substring(slash + 1)};
  }
}
