package io.spindrift.sink;

import java.util.List;
import java.util.Objects;

/**
 * Where a job's output goes: a table format, a table name ({@code namespace.table}), a write mode and, for
 * upserts, the key columns. Immutable; the {@code with…} methods return a changed copy.
 *
 * <pre>{@code SinkSpec.iceberg("analytics.page_views")}</pre>
 */
public record SinkSpec(Format format, String table, Mode mode, List<String> keys, String partitionBy) {
  /** Table formats Spindrift publishes to. */
  public enum Format { ICEBERG, DELTA, HUDI }

  /** APPEND adds every output row; UPSERT merges on {@link #keys()}. */
  public enum Mode { APPEND, UPSERT }

  public SinkSpec {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(mode, "mode");
    keys = List.copyOf(keys);
    if (table == null || !table.matches("[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("Invalid sink table: '" + table + "' (expected namespace.table)");
    }
    if (partitionBy != null && partitionBy.isBlank()) {
      partitionBy = null;
    }
    if (mode == Mode.UPSERT && keys.isEmpty()) {
      throw new IllegalArgumentException("Sink " + table + ": UPSERT needs at least one key column");
    }
  }

  public static SinkSpec iceberg(String table) {
    return new SinkSpec(Format.ICEBERG, table, Mode.APPEND, List.of(), null);
  }

  public static SinkSpec delta(String table) {
    return new SinkSpec(Format.DELTA, table, Mode.APPEND, List.of(), null);
  }

  public static SinkSpec hudi(String table) {
    return new SinkSpec(Format.HUDI, table, Mode.APPEND, List.of(), null);
  }

  public SinkSpec withTable(String newTable) {
    return new SinkSpec(format, newTable, mode, keys, partitionBy);
  }

  public SinkSpec withFormat(Format newFormat) {
    return new SinkSpec(newFormat, table, mode, keys, partitionBy);
  }

  public SinkSpec mode(Mode newMode) {
    return new SinkSpec(format, table, newMode, keys, partitionBy);
  }

  /** An upsert (MERGE) keyed on {@code keyColumns}: the last row of a key wins, in commit order. */
  public SinkSpec upsert(String... keyColumns) {
    return new SinkSpec(format, table, Mode.UPSERT, List.of(keyColumns), partitionBy);
  }

  /** The table is partitioned by the identity of {@code column} when Spindrift creates it. */
  public SinkSpec partitionedBy(String column) {
    return new SinkSpec(format, table, mode, keys, column);
  }

  /** True for {@link Mode#UPSERT}. */
  public boolean isUpsert() {
    return mode == Mode.UPSERT;
  }

  /** The namespace part of {@link #table()}. */
  public String namespace() {
    return table.substring(0, table.indexOf('.'));
  }

  /** The name part of {@link #table()}. */
  public String name() {
    return table.substring(table.indexOf('.') + 1);
  }
}
