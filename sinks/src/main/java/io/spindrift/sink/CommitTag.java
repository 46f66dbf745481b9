package io.spindrift.sink;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What every table commit carries (invariant I6), and what makes a publish idempotent: the app and the
 * commit-log sequence number. {@code lanes} is a compact description of the lane ranges, for people.
 *
 * <p>A table commit may publish several consecutive commits at once (a roll-forward of a backlog): its summary
 * then holds the first and last seq, and every txn id and lane range, in order.
 */
public record CommitTag(String app, long seq, String txnId, String lanes) {
  public static final String APP = "spindrift.app";
  /** The last (highest) commit seq a table commit publishes. */
  public static final String SEQ = "spindrift.seq";
  /** The first commit seq a table commit publishes (equal to {@link #SEQ} for one commit). */
  public static final String FIRST_SEQ = "spindrift.first-seq";
  public static final String TXN_ID = "spindrift.txn-id";
  public static final String LANES = "spindrift.lanes";

  /** The entries of a table commit publishing {@code todo} (consecutive commits of one app, in seq order). */
  public static Map<String, String> entries(List<PendingPublish> todo) {
    CommitTag first = todo.get(0).tag();
    CommitTag last = todo.get(todo.size() - 1).tag();
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(APP, first.app());
    tags.put(SEQ, Long.toString(last.seq()));
    tags.put(FIRST_SEQ, Long.toString(first.seq()));
    tags.put(TXN_ID, todo.stream().map(p -> p.tag().txnId()).collect(Collectors.joining(",")));
    tags.put(LANES, todo.stream().map(p -> p.tag().lanes()).collect(Collectors.joining(" ")));
    return tags;
  }
}
