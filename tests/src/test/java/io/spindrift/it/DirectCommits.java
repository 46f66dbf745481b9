package io.spindrift.it;

import io.spindrift.sink.CommitTag;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * Table commits made through a format's own Java API instead of {@code Sink.stage} and {@code Sink.publish}, for
 * benchmarks that need many commits quickly (TableHealthBench's one hour: 14,400 commits). Each call is one real
 * commit of the format, with one new data file of {@code rows} and the commit's {@link CommitTag} where the sink
 * puts it, on a table the product's sink created. No publish lease, stage document or idempotence check: the
 * caller is the table's one writer. A failure propagates; the table then holds the commits made before it.
 */
interface DirectCommits {
  /** Commits {@code rows} (laid out as the table's columns) as one new data file, tagged with {@code tag}. */
  void commit(CommitTag tag, List<InternalRow> rows);

  /** Records what the sink records once per publish besides the data, after the last commit (default: nothing). */
  default void finish(CommitTag last) {}
}
