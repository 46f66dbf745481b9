package io.spindrift.commit;

/**
 * An app-wide claim on publishing (docs/PROTOCOL.md, step 5): while one invocation holds it, that invocation
 * publishes every commit sequenced so far, one table commit per table, and the others wait for the publication
 * watermark to pass their seq instead of each taking a turn at the tables. A claim names its owner, the seq its
 * owner publishes at least through, and when it expires; the owner renews it while publishing and releases it once
 * the watermark is raised. An expired claim (its owner died or froze) is taken over with one conditional write, so
 * of several claimers exactly one wins.
 *
 * <p>A claim only saves table commits; it guards nothing: every publish is idempotent, so an owner still
 * publishing after its claim expired and the successor publishing the same commits change the tables once. Expiry
 * compares the claimer's wall clock with the owner's; a skewed clock only makes a takeover early or late.
 * {@link DynamoDbPublishClaim} keeps the claim beside the commit log; {@link InMemoryPublishClaim} keeps the same
 * contract for protocol tests.
 */
public interface PublishClaim {
  /** The app's claim as it stands, or null when nobody holds it (never taken, or released). */
  Claim read(String app);

  /**
   * Takes the app's claim for {@code owner}, publishing through at least {@code through}, for {@code durationMs}:
   * only when nobody holds it or its holder's claim has expired.
   *
   * @return true if {@code owner} now holds it; false if another holder's live claim (or a claimer faster by one
   *     write) kept it
   */
  boolean tryTake(String app, String owner, long through, long durationMs);

  /** Extends {@code owner}'s claim by {@code durationMs} from now; false if it is no longer {@code owner}'s. */
  boolean renew(String app, String owner, long durationMs);

  /** Gives the claim up if {@code owner} still holds it; a claim taken over since is left to its new holder. */
  void release(String app, String owner);

  /**
   * A claim as read: its owner, the seq it publishes at least through, when it expires (epoch ms) and whether it had
   * expired when read, on the clock {@link #tryTake} judges by (its owner stopped renewing it: it may be taken over).
   */
  record Claim(String owner, long through, long expiresAtMs, boolean expired) {}
}
