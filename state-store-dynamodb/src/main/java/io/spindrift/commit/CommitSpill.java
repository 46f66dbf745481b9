package io.spindrift.commit;

/**
 * Where a commit's stages go when they are too large for its DynamoDB item (DynamoDB refuses items over 400 KB):
 * one immutable object per transaction, written before the commit and named by the app and the transaction id
 * alone, so that repeating the write (a rebased or retried commit of the same transaction) writes the same name
 * with the same bytes. Nothing here deletes: the object lives as long as the rest of the transaction's stage, and
 * must not be collected while the commit is unpublished (DESIGN §5, I7).
 */
public interface CommitSpill {
  /**
   * Writes the encoded stages of {@code app}'s transaction {@code txnId}.
   *
   * @return the object's reference, which {@link #get} resolves
   * @throws RuntimeException if the write failed (the commit is then not attempted; Lambda retries the batch)
   */
  String put(String app, String txnId, byte[] stages);

  /**
   * Returns the bytes {@link #put} wrote at {@code ref}.
   *
   * @throws IllegalStateException if the object is missing although a commit points at it
   */
  byte[] get(String ref);
}
