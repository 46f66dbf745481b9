package io.spindrift.sink;

import java.util.List;

/**
 * One table a batch writes to, in two steps (DESIGN §7). {@link #stage} writes the batch's rows as files that
 * are not yet part of the table and returns a reference for the commit log. {@link #publish} makes committed
 * stages visible, tagged with their commits; it is idempotent: publishing the same commits again, concurrently
 * or after a crash, changes nothing. Staged output that is never committed is ignored and later collected.
 */
public interface Sink {
  /**
   * Writes {@code rows} under {@code txnId}; never changes the table's contents. Creates the table from the rows'
   * schema when it does not exist. A column the table lacks, or one whose type differs, is an error naming it, and
   * so is a row without a value in a key column of an upsert, or a delete for an append ({@link #upsertKeys}).
   * A row whose {@link ChangeRows#COLUMN} is true deletes its key in an upsert; that column never reaches the table.
   */
  StagedOutput stage(String txnId, StageRows rows);

  /**
   * Publishes, in one table commit, every pending stage the table does not hold yet. {@code pending} are
   * consecutive commits of one app in seq order; an app's commits reach the table in seq order, so what the table
   * holds is always a prefix of the app's commits. A pending ref may be a composite ({@link StagedOutput#combine}
   * of parts this sink staged under distinct stage ids): all its parts reach the table in its seq's one commit,
   * and for an upsert a later part's change of a key wins over an earlier part's.
   *
   * @return the seqs this call published (empty if the table already held all of them)
   */
  List<Long> publish(List<PendingPublish> pending);

  /**
   * As {@link #publish(List)}, giving up any wait for another writer (a format's publish lease) at
   * {@code deadlineNanos} ({@link System#nanoTime()} scale): the runtime passes the invocation's remaining time,
   * so a publish that cannot finish fails in time for Lambda to retry rather than being killed mid-wait.
   */
  default List<Long> publish(List<PendingPublish> pending, long deadlineNanos) {
    return publish(pending);
  }

  /**
   * As {@link #publish(List, long)}, running {@code beforeCommit} before the table commit that would make the
   * stages visible, and committing nothing if it throws (its exception propagates). The runtime publishes a
   * commit's rejects beside its table this way, and {@code beforeCommit} waits for the table's publish: the rejects
   * become visible only after the table, as when the two were published one after the other. A format may do what
   * precedes its commit (take its lease, write files) before running {@code beforeCommit}; by default it runs first.
   * It may run more than once (a commit retried after a lost race) or not at all (nothing left to publish).
   */
  default List<Long> publish(List<PendingPublish> pending, long deadlineNanos, Runnable beforeCommit) {
    beforeCommit.run();
    return publish(pending, deadlineNanos);
  }

  /**
   * The table upkeep this sink's publishes left for later (Hudi: clean-up of a commit's markers, cleaning,
   * archival, clustering), run off the path other invocations wait on: the runtime calls this after a publish once
   * the publication is marked (a group's claim holder, before it releases the claim). Best effort: nothing the table's contents depend
   * on; what it leaves undone (another writer holds the table, too little time left before {@code deadlineNanos},
   * or the call never comes) the sink's next publish does itself. Never throws. By default nothing.
   */
  default void afterPublish(long deadlineNanos) {}

  /**
   * The key columns an upsert needs a value in ({@link UpsertKeys#NONE} for an append). Output rows lacking one
   * are rejects: the runtime sends them to the rejects table before staging, and {@link #stage} refuses them.
   */
  default UpsertKeys upsertKeys() {
    return UpsertKeys.NONE;
  }

  /** True if the table already holds the commit tagged {@code app}/{@code seq}. */
  boolean isPublished(String app, long seq);
}
