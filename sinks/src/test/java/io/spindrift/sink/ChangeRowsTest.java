package io.spindrift.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

/** Rows as changes of their keys: the delete marker split off, the last change per key, the append check. */
class ChangeRowsTest {
  private static final StructType OUTPUT = new StructType().add("k", DataTypes.StringType)
      .add(ChangeRows.COLUMN, DataTypes.BooleanType).add("v", DataTypes.LongType);

  /** {@code "a=1"} upserts a with 1, {@code "-a"} deletes a, {@code "?a=1"} has a null marker. */
  private static StageRows rows(String... changes) {
    List<InternalRow> out = new ArrayList<>();
    for (String change : changes) {
      Boolean delete = change.startsWith("?") ? null : change.startsWith("-");
      String body = change.replaceFirst("^[-?]", "");
      String key = body.contains("=") ? body.substring(0, body.indexOf('=')) : body;
      Long value = body.contains("=") ? Long.valueOf(body.substring(body.indexOf('=') + 1)) : null;
      out.add(new GenericInternalRow(new Object[] {UTF8String.fromString(key), delete, value}));
    }
    return new StageRows(OUTPUT, out);
  }

  private static List<String> describe(ChangeRows changes) {
    List<String> out = new ArrayList<>();
    List<InternalRow> rows = changes.rows().rows();
    for (int i = 0; i < rows.size(); i++) {
      InternalRow row = rows.get(i);
      out.add((changes.deletes().get(i) ? "-" : "") + row.getUTF8String(0) + (row.isNullAt(1) ? "" : "=" + row.getLong(1)));
    }
    return out;
  }

  @Test
  void theMarkerIsSplitOffTheRows() {
    ChangeRows changes = ChangeRows.of(rows("a=1", "-b", "?c=3"));

    assertThat(changes.rows().schema().fieldNames()).containsExactly("k", "v");
    assertThat(describe(changes)).containsExactly("a=1", "-b", "c=3");
    assertThat(changes.upserts()).hasSize(2);
    assertThat(ChangeRows.of(changes.withMarker()).deletes()).isEqualTo(changes.deletes());
    assertThat(changes.withMarker().schema().fieldNames()).containsExactly("k", "v", ChangeRows.COLUMN);
  }

  @Test
  void theLastChangeOfAKeyWins() {
    ChangeRows last = ChangeRows.of(rows("a=1", "-a", "b=1", "-c", "c=3", "b=2", "-b", "d=4")).lastPerKey(List.of("k"), "t");

    assertThat(describe(last)).containsExactly("-a", "-b", "c=3", "d=4");
    assertThat(describe(last.lastPerKey(List.of("k"), "t"))).containsExactly("-a", "-b", "c=3", "d=4");
  }

  @Test
  void aMarkerThatIsNotBooleanIsAnErrorNamingIt() {
    StructType wrong = new StructType().add("k", DataTypes.StringType).add(ChangeRows.COLUMN, DataTypes.StringType);
    assertThatThrownBy(() -> ChangeRows.markerIndex(wrong)).hasMessageContaining(ChangeRows.COLUMN)
        .hasMessageContaining("boolean");
  }

  @Test
  void aDeleteIsARejectForAnAppendAndNeedsItsKeyForAnUpsert() {
    StageRows batch = rows("a=1", "-b", "?c=3");
    SinkSpec append = SinkSpec.iceberg("ns.t");
    UpsertKeys.Bound appending = UpsertKeys.of(append).bind(OUTPUT);
    assertThat(appending.rejectReason(batch.rows().get(0))).isNull();
    assertThat(appending.rejectReason(batch.rows().get(1))).contains("needs an upsert sink").contains("ns.t");
    assertThat(appending.rejectReason(batch.rows().get(2))).isNull();
    assertThatThrownBy(() -> UpsertKeys.of(append).requireValues(batch)).hasMessageContaining("needs an upsert sink");

    UpsertKeys.Bound upserting = UpsertKeys.of(append.upsert("k")).bind(OUTPUT);
    assertThat(upserting.rejectReason(batch.rows().get(1))).isNull();
    InternalRow keyless = new GenericInternalRow(new Object[] {null, true, null});
    assertThat(upserting.rejectReason(keyless)).contains("'k'");
  }
}
