package io.spindrift.replay;

import io.spindrift.event.SourceRecord;
import java.util.List;

/** Reads one lane's range in position order. Not thread-safe: one reader per lane worker. */
interface LaneReader extends AutoCloseable {
  /** The next records of the range, at most {@code max} (empty only when {@link #finished()}). */
  List<SourceRecord> next(int max);

  /** True once the range's last record has been returned. */
  boolean finished();

  @Override
  void close();
}
