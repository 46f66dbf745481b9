package io.spindrift.sink.internal;

import io.spindrift.sink.ChangeRows;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import io.spindrift.sink.UpsertKeys;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.sql.types.StructType;

/**
 * The stage preparation every format shares, once: an empty batch stages nothing; a row without an upsert key value
 * is refused; the batch's changes ({@link ChangeRows}) are read, the table is made ready for the output's columns
 * (created, or evolved with the columns it lacks) and the changes are laid out as the table's columns before the
 * format writes them. A format supplies only the table ({@link #tableFor}), its columns and the write
 * ({@link #write}); publishing is {@link Publication}'s.
 *
 * @param <T> the format's handle on the table while a batch is staged
 */
public abstract class TableSink<T> implements Sink {
  /** Schema-change commits of one stage before one that keeps losing the race to another container gives up. */
  public static final int MAX_SCHEMA_ATTEMPTS = 10;

  protected final SinkSpec spec;

  protected TableSink(SinkSpec spec) {
    this.spec = spec;
  }

  @Override
  public final UpsertKeys upsertKeys() {
    return UpsertKeys.of(spec);
  }

  @Override
  public final StagedOutput stage(String txnId, StageRows rows) {
    if (rows.isEmpty()) {
      return StagedOutput.EMPTY;
    }
    return inContext(() -> {
      upsertKeys().requireValues(rows);
      ChangeRows changes = ChangeRows.of(rows);
      T table = tableFor(changes.rows().schema());
      return write(table, txnId, changes.aligned(columns(table), spec.table()));
    });
  }

  /**
   * The table ready for {@code output}: created from it when missing (see {@link #requireColumns}), with every
   * output column it lacks added as a nullable column (an incompatible type fails, naming the column).
   */
  protected abstract T tableFor(StructType output);

  /** The table's columns, as the staged rows are laid out. */
  protected abstract StructType columns(T table);

  /** Writes the batch's changes, laid out as the table's columns, as files not yet part of the table. */
  protected abstract StagedOutput write(T table, String txnId, ChangeRows changes);

  /** Runs {@code work} in whatever context the format needs (default: as it is). */
  protected <R> R inContext(Supplier<R> work) {
    return work.get();
  }

  /**
   * Fails, naming the column, when the spec's upsert keys or partition column are not in the output a new table
   * is created from.
   */
  protected final void requireColumns(StructType output) {
    if (spec.isUpsert()) {
      TableColumns.keyIndexes(output, spec.keys(), spec.table());
    }
    if (spec.partitionBy() != null && !List.of(output.fieldNames()).contains(spec.partitionBy())) {
      throw new IllegalStateException("Sink " + spec.table() + ": partition column '" + spec.partitionBy()
          + "' is not in the job's output (columns: " + String.join(", ", output.fieldNames()) + ")");
    }
  }

  /**
   * Runs {@code attempt} again while it fails with {@code lostRace} (another container changed the table's schema
   * first), at most {@link #MAX_SCHEMA_ATTEMPTS} times; the last lost race propagates.
   */
  protected static <R> R evolving(Class<? extends RuntimeException> lostRace, Supplier<R> attempt) {
    for (int n = 1; ; n++) {
      try {
        return attempt.get();
      } catch (RuntimeException raced) {
        if (!lostRace.isInstance(raced) || n >= MAX_SCHEMA_ATTEMPTS) {
          throw raced;
        }
      }
    }
  }
}
