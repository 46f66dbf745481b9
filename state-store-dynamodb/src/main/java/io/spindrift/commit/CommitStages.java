package io.spindrift.commit;

import io.spindrift.state.StateBucket;
import java.util.List;

/**
 * What a commit references besides its lane positions: the staged sink output (the table's and the rejects',
 * each a sink's own reference, null for none) and the batch's state changes, either inline ({@code stateDelta},
 * base64) or, when too large for the commit item, as an S3 object written before the commit ({@code stateObject}),
 * with the state buckets they touch. Everything referenced here exists before the commit is made and stays until
 * the commit is published (I7).
 */
public record CommitStages(String table, String rejects, String stateDelta, String stateObject,
    List<StateBucket> stateBuckets) {
  public static final CommitStages NONE = new CommitStages(null, null, null, null, List.of());

  public CommitStages {
    stateBuckets = List.copyOf(stateBuckets);
    if (stateDelta != null && stateObject != null) {
      throw new IllegalArgumentException("A commit's state delta is inline or an object, not both");
    }
  }

  /** True when the commit carries state changes (inline or as an object). */
  public boolean hasState() {
    return stateDelta != null || stateObject != null;
  }

  /** These stages with the state changes of a batch: inline {@code delta} or S3 {@code object}, one of them null. */
  public CommitStages withState(String delta, String object, List<StateBucket> buckets) {
    return new CommitStages(table, rejects, delta, object, buckets);
  }
}
