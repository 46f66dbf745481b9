package io.spindrift.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.UpsertKeys;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

/** Rows without a value in an upsert key column are rejects, with lane and position, before anything is staged. */
class OutputSplitTest {
  private static final StructType OUTPUT = new StructType()
      .add("user_id", DataTypes.StringType)
      .add("n", DataTypes.LongType)
      .add("spindrift_lane", DataTypes.StringType)
      .add("spindrift_position", DataTypes.StringType)
      .add("spindrift_payload", DataTypes.BinaryType)
      .add("spindrift_reject", DataTypes.StringType);

  private static InternalRow row(String user, long n, String position, String reject) {
    return new GenericInternalRow(new Object[] {user == null ? null : UTF8String.fromString(user), n,
        UTF8String.fromString("kinesis:s/shardId-0"), UTF8String.fromString(position),
        ("payload-" + position).getBytes(), reject == null ? null : UTF8String.fromString(reject)});
  }

  @Test
  void rowsWithANullOrEmptyUpsertKeyGoToRejectsNamingTheKeyColumn() {
    List<InternalRow> output = List.of(row("u1", 1, "10", null), row(null, 2, "11", null), row("", 3, "12", null),
        row("u2", 4, "13", "malformed"), row("u3", 5, "14", null));

    OutputSplit.Split split = new OutputSplit(OUTPUT).split(output, 7L,
        new UpsertKeys("it.t", List.of("user_id")));

    assertThat(split.table().rows()).extracting(r -> r.getUTF8String(0).toString()).containsExactly("u1", "u3");
    assertThat(split.table().schema().fieldNames()).containsExactly("user_id", "n");
    assertThat(split.rejects().rows()).extracting(r -> r.getUTF8String(1).toString())
        .containsExactly("11", "12", "13");
    assertThat(split.rejects().rows()).extracting(r -> r.getUTF8String(0).toString())
        .containsOnly("kinesis:s/shardId-0");
    assertThat(split.rejects().rows().get(0).getUTF8String(2).toString())
        .contains("'user_id'").contains("it.t").contains("null");
    assertThat(split.rejects().rows().get(1).getUTF8String(2).toString()).contains("'user_id'").contains("empty");
    assertThat(split.rejects().rows().get(2).getUTF8String(2).toString()).isEqualTo("malformed");
    assertThat(new String(split.rejects().rows().get(0).getBinary(3))).isEqualTo("payload-11");
  }

  @Test
  void anAppendSinkKeepsRowsWithNullColumns() {
    OutputSplit.Split split = new OutputSplit(OUTPUT).split(List.of(row(null, 1, "10", null)), 7L, UpsertKeys.NONE);

    assertThat(split.table().rows()).hasSize(1);
    assertThat(split.rejects().rows()).isEmpty();
  }
}
