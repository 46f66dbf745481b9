package io.spindrift.sink;

import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;

/**
 * A batch's output for one table, already computed: rows in Spark's internal format and their schema. Staging
 * works on collected rows because a Lambda invocation is one JVM: one Spark job computes the output once, and the
 * driver writes the files.
 */
public record StageRows(StructType schema, List<InternalRow> rows) {
  public StageRows {
    rows = List.copyOf(rows);
  }

  public boolean isEmpty() {
    return rows.isEmpty();
  }
}
