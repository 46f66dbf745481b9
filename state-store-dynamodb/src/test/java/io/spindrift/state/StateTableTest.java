package io.spindrift.state;

import static io.spindrift.state.StateRows.count;
import static io.spindrift.state.StateRows.keyBytes;
import static io.spindrift.state.StateRows.puts;
import static io.spindrift.state.StateRows.removes;
import static io.spindrift.state.StateRows.valueBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StateTableTest {
  private static final StateBucket B0 = new StateBucket(0, "default", 0);
  private static final StateBucket B1 = new StateBucket(0, "default", 1);

  @Test
  void applyIsIdempotentBySeq() {
    try (StateTable table = LocalState.freshApp()) {
      assertThat(table.apply(List.of(puts(B0, Map.of("a", 1L, "b", 2L))), 1)).isEqualTo(1);
      StateIoCounts afterFirst = table.counts();

      assertThat(table.apply(List.of(puts(B0, Map.of("a", 1L, "b", 2L))), 1)).isZero();
      assertThat(table.apply(List.of(puts(B0, Map.of("a", 99L))), 1)).as("other content, same seq").isZero();
      assertThat(table.apply(List.of(removes(B0, "a")), 2)).isEqualTo(1);
      assertThat(table.apply(List.of(puts(B0, Map.of("a", 42L))), 1)).as("an older seq").isZero();

      BucketState durable = table.readDurable(B0);
      assertThat(durable.size()).isEqualTo(1);
      assertThat(count(durable.get(keyBytes("b")))).isEqualTo(2);
      assertThat(durable.appliedSeq()).isEqualTo(2);
      assertThat(table.counts().minus(afterFirst).itemsWritten()).as("only the seq-2 removal").isEqualTo(1);
    }
  }

  @Test
  void warmCacheServesASecondReadWithoutDynamoDbReads() {
    try (StateTable table = LocalState.freshApp()) {
      table.apply(List.of(puts(B0, Map.of("a", 1L))), 1);
      assertThat(count(table.read(B0).get(keyBytes("a")))).isEqualTo(1);
      StateIoCounts afterRead = table.counts();

      table.apply(List.of(puts(B0, Map.of("a", 2L, "b", 1L))), 2);
      BucketState warm = table.read(B0);

      StateIoCounts cost = table.counts().minus(afterRead);
      assertThat(cost.readRequests()).isZero();
      assertThat(cost.itemsRead()).isZero();
      assertThat(count(warm.get(keyBytes("a")))).isEqualTo(2);
      assertThat(count(warm.get(keyBytes("b")))).isEqualTo(1);
      assertThat(table.validThrough()).isEqualTo(2);
    }
  }

  @Test
  void refreshRereadsOnlyTheBucketsLaterCommitsTouched() {
    try (StateTable mine = LocalState.freshApp(); StateTable other = LocalState.sameApp(mine)) {
      mine.read(B0);
      mine.read(B1);
      other.apply(List.of(puts(B1, Map.of("x", 7L))), 1);
      StateIoCounts before = mine.counts();

      mine.refresh(1, Set.of(B1));
      BucketState b0 = mine.read(B0);
      BucketState b1 = mine.read(B1);

      assertThat(mine.counts().minus(before).readRequests()).isEqualTo(1);
      assertThat(b0.size()).isZero();
      assertThat(count(b1.get(keyBytes("x")))).isEqualTo(7);
      assertThat(mine.validThrough()).isEqualTo(1);
    }
  }

  @Test
  void applyingPastAGapDropsTheTouchedBucketsFromTheCache() {
    try (StateTable table = LocalState.freshApp(); StateTable other = LocalState.sameApp(table)) {
      table.read(B0);
      other.apply(List.of(puts(B0, Map.of("a", 1L))), 1);
      table.apply(List.of(puts(B0, Map.of("b", 1L))), 2);

      BucketState reread = table.read(B0);

      assertThat(reread.rows()).containsOnlyKeys(keyBytes("a"), keyBytes("b"));
      assertThat(table.validThrough()).isZero();
    }
  }

  @Test
  void writesGoInBatchesOf25() {
    try (StateTable table = LocalState.freshApp()) {
      Map<String, Long> many = new HashMap<>();
      for (int i = 0; i < 120; i++) {
        many.put("key-" + i, (long) i);
      }
      StateIoCounts before = table.counts();

      table.apply(List.of(puts(B0, many), puts(B1, Map.of("z", 1L))), 1);

      StateIoCounts cost = table.counts().minus(before);
      assertThat(cost.itemsWritten()).isEqualTo(121);
      assertThat(cost.writeRequests()).isEqualTo(5);
      assertThat(cost.metaReads()).as("one BatchGetItem for both markers").isEqualTo(1);
      assertThat(table.readDurable(B0).size()).isEqualTo(120);
    }
  }

  @Test
  void longKeysRoundTripAndOversizedRowsAreRefused() {
    try (StateTable table = LocalState.freshApp()) {
      KeyBytes longKey = KeyBytes.wrap(new byte[5_000]);
      table.apply(List.of(new StateDelta(B0, Map.of(longKey, valueBytes(3)), Set.of())), 1);
      assertThat(count(table.readDurable(B0).get(longKey))).isEqualTo(3);

      StateDelta huge = new StateDelta(B1, Map.of(keyBytes("big"), new byte[400 * 1024]), Set.of());
      assertThatThrownBy(() -> table.apply(List.of(huge), 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("operator 0, store default, partition 1")
          .hasMessageContaining("exceeds " + StateTable.MAX_ROW_BYTES);
    }
  }

  @Test
  void deltasSurviveTheirStagingCodec() {
    StateDelta puts = puts(B0, Map.of("a", 1L, "b", 2L));
    StateDelta removes = removes(B1, "c");

    List<StateDelta> decoded = StateDeltaCodec.decode(StateDeltaCodec.encode(List.of(puts, removes)));

    assertThat(decoded).hasSize(2);
    assertThat(decoded.get(0).bucket()).isEqualTo(B0);
    assertThat(decoded.get(0).puts()).containsOnlyKeys(keyBytes("a"), keyBytes("b"));
    assertThat(count(decoded.get(0).puts().get(keyBytes("b")))).isEqualTo(2);
    assertThat(decoded.get(1).removes()).containsExactly(keyBytes("c"));
    assertThat(StateBucket.parse(B1.id())).isEqualTo(B1);
  }
}
