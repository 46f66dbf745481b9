package io.spindrift.sink.hudi;

import io.spindrift.sink.StageRows;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The rows of the stage files this container wrote lately, by stage ref, so that a publish in the same container
 * (the inline publish right after the commit) does not read back the file it has just written, which costs a
 * Spark job. A stage file is never changed after its commit (a retried stage of the same transaction rewrites the
 * file and this entry together), so the rows here are the file's rows. Holds at most {@code maxRows} rows, oldest
 * stages dropped first; a stage not held here (published by another container, or after a restart) is read from
 * its file.
 */
final class RecentStages {
  private final int maxRows;
  private final LinkedHashMap<String, StageRows> byRef = new LinkedHashMap<>();
  private int rows;

  RecentStages(int maxRows) {
    this.maxRows = maxRows;
  }

  /** Keeps {@code staged} as the rows of {@code ref} (replacing what a failed try left), unless it is too big. */
  synchronized void put(String ref, StageRows staged) {
    forget(ref);
    if (staged.rows().size() > maxRows) {
      return;
    }
    byRef.put(ref, staged);
    rows += staged.rows().size();
    Iterator<Map.Entry<String, StageRows>> oldest = byRef.entrySet().iterator();
    while (rows > maxRows && oldest.hasNext()) {
      rows -= oldest.next().getValue().rows().size();
      oldest.remove();
    }
  }

  /** The rows staged as {@code ref}, if this container staged it lately. */
  synchronized Optional<StageRows> get(String ref) {
    return Optional.ofNullable(byRef.get(ref));
  }

  /** Drops {@code ref} (published: not needed again). */
  synchronized void forget(String ref) {
    StageRows old = byRef.remove(ref);
    if (old != null) {
      rows -= old.rows().size();
    }
  }
}
