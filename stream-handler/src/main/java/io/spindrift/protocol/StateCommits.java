package io.spindrift.protocol;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitStages;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.state.DurableState;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDeltaCodec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * How a stateful job's state travels through the protocol: a batch's changes are written into its commit (inline,
 * or as an S3 object staged before the commit when too large for the commit item), the cache is brought to the head
 * before a batch runs, and a publish applies each commit's delta once, in seq order.
 */
public final class StateCommits {
  /** DynamoDB items hold 400 KB; the commit record keeps the rest of its room for lanes and stages. */
  static final int MAX_INLINE_STATE = 300 * 1024;
  /** After this many commits by others the cache is dropped instead of refreshed bucket by bucket. */
  private static final long MAX_REFRESH_GAP = 50;

  private final String app;
  private final CommitLog log;
  private final DurableState state;
  private final Faults faults;

  public StateCommits(String app, CommitLog log, DurableState state, Faults faults) {
    this.app = app;
    this.log = log;
    this.state = state;
    this.faults = faults;
  }

  DurableState state() {
    return state;
  }

  /**
   * Returns {@code stages} with the batch's state {@code changes}: inline, or staged in S3 under {@code txnId} when
   * too large for the record (staged now, before the commit, so a record never points at a missing object).
   */
  CommitStages attach(CommitStages stages, StateChanges changes, String txnId) {
    if (changes.isEmpty()) {
      return stages;
    }
    byte[] encoded = StateDeltaCodec.encode(changes.deltas());
    String delta = Base64.getEncoder().encodeToString(encoded);
    List<StateBucket> buckets = List.copyOf(changes.touched());
    if (delta.length() > MAX_INLINE_STATE) {
      return stages.withState(null, state.stageDeltas(txnId, encoded), buckets);
    }
    return stages.withState(delta, null, buckets);
  }

  /**
   * Brings the state cache to the head the batch starts from: buckets that commits since the cache's seq touched
   * are re-read; after a long gap the cache is dropped instead.
   */
  public void catchUp(LogSnapshot snapshot) {
    long from = state.validThrough();
    if (from >= snapshot.headSeq()) {
      return;
    }
    if (snapshot.headSeq() - from > MAX_REFRESH_GAP) {
      state.invalidate();
      state.refresh(snapshot.headSeq(), List.of());
      return;
    }
    List<StateBucket> touched = new ArrayList<>();
    for (CommitRecord commit : log.commits(app, from, snapshot.headSeq())) {
      touched.addAll(commit.stages().stateBuckets());
    }
    state.refresh(snapshot.headSeq(), touched);
  }

  /** Applies the state deltas of these commits, in seq order; idempotent per bucket and seq. */
  void apply(List<CommitRecord> commits) {
    for (CommitRecord commit : commits) {
      CommitStages stages = commit.stages();
      if (stages.hasState()) {
        state.apply(stages.stateDelta() != null
                ? StateDeltaCodec.decode(Base64.getDecoder().decode(stages.stateDelta()))
                : state.stagedDeltas(stages.stateObject()),
            commit.seq(), () -> faults.hit(FaultPoint.MID_STATE_APPLY));
      }
    }
  }
}
