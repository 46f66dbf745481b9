package io.spindrift.state;

import static io.spindrift.state.StateRows.count;
import static io.spindrift.state.StateRows.key;
import static io.spindrift.state.StateRows.keyBytes;
import static io.spindrift.state.StateRows.keyString;
import static io.spindrift.state.StateRows.puts;
import static io.spindrift.state.StateRows.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.execution.streaming.state.StateStore;
import org.apache.spark.sql.execution.streaming.state.StateStoreConf;
import org.apache.spark.sql.execution.streaming.state.StateStoreId;
import org.apache.spark.sql.execution.streaming.state.UnsafeRowPair;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DynamoDbStateStoreProviderTest {
  private static final StateBucket BUCKET = new StateBucket(3, "default", 1);

  private final String runId = "run-" + UUID.randomUUID();
  private StateTable table;

  @BeforeEach
  void openRun() {
    table = LocalState.freshApp();
    StateDeltas.open(runId, table);
  }

  @AfterEach
  void closeRun() {
    StateDeltas.close(runId);
    table.close();
  }

  private DynamoDbStateStoreProvider provider(StateBucket bucket, StructType keySchema, StructType valueSchema,
      int prefixColumns) {
    Configuration hadoop = new Configuration(false);
    hadoop.set(DynamoDbStateStoreProvider.RUN_CONF, runId);
    DynamoDbStateStoreProvider provider = new DynamoDbStateStoreProvider();
    provider.init(new StateStoreId("/unused", bucket.operatorId(), bucket.partition(), bucket.storeName()),
        keySchema, valueSchema, prefixColumns, new StateStoreConf(), hadoop);
    return provider;
  }

  private DynamoDbStateStoreProvider provider() {
    return provider(BUCKET, StateRows.KEY, StateRows.VALUE, 0);
  }

  @Test
  void storeReadsItsOwnWritesAndCommitHandsTheDeltaOverWritingNothing() {
    table.apply(List.of(puts(BUCKET, Map.of("kept", 1L, "dropped", 2L))), 1);
    StateIoCounts before = table.counts();
    StateStore store = provider().getStore(0);

    store.put(key("new"), value(5));
    store.put(key("kept"), value(10));
    store.remove(key("dropped"));

    assertThat(store.get(key("new")).getLong(0)).isEqualTo(5);
    assertThat(store.get(key("kept")).getLong(0)).isEqualTo(10);
    assertThat(store.get(key("dropped"))).isNull();
    assertThat(store.metrics().numKeys()).isEqualTo(2);
    assertThat(store.commit()).isEqualTo(1);
    assertThat(store.hasCommitted()).isTrue();

    assertThat(table.counts().minus(before).writeRequests()).isZero();
    assertThat(table.readDurable(BUCKET).rows()).containsOnlyKeys(keyBytes("kept"), keyBytes("dropped"));
    StateChanges changes = StateDeltas.drain(runId);
    assertThat(changes.deltas()).hasSize(1);
    StateDelta delta = changes.deltas().get(0);
    assertThat(delta.bucket()).isEqualTo(BUCKET);
    assertThat(delta.puts()).containsOnlyKeys(keyBytes("new"), keyBytes("kept"));
    assertThat(delta.removes()).containsExactly(keyBytes("dropped"));
    assertThat(changes.bucketsRead()).containsExactly(BUCKET);
    assertThat(StateDeltas.drain(runId).isEmpty()).as("drained once").isTrue();
  }

  @Test
  void emptyCommitsAreSkipped() {
    StateStore store = provider().getStore(0);
    store.get(key("absent"));
    store.commit();

    StateChanges changes = StateDeltas.drain(runId);

    assertThat(changes.deltas()).isEmpty();
    assertThat(changes.bucketsRead()).containsExactly(BUCKET);
  }

  @Test
  void putCopiesTheRowsSparkKeepsReusing() {
    StateStore store = provider().getStore(0);
    UnsafeProjection reused = UnsafeProjection.create(StateRows.VALUE);
    UnsafeRow buffer = reused.apply(new GenericInternalRow(new Object[] {1L}));

    store.put(key("a"), buffer);
    reused.apply(new GenericInternalRow(new Object[] {2L}));
    UnsafeRow got = store.get(key("a"));
    got.setLong(0, 99);

    assertThat(buffer.getLong(0)).as("Spark reused its buffer").isEqualTo(2);
    assertThat(store.get(key("a")).getLong(0)).isEqualTo(1);
  }

  @Test
  void iteratorIsASnapshotThatRemovalsDuringIterationDoNotDisturb() {
    table.apply(List.of(puts(BUCKET, Map.of("a", 1L, "b", 2L, "c", 3L))), 1);
    StateStore store = provider().getStore(0);
    store.put(key("d"), value(4));

    List<String> seen = new ArrayList<>();
    scala.collection.Iterator<UnsafeRowPair> rows = store.iterator();
    while (rows.hasNext()) {
      UnsafeRowPair pair = rows.next();
      seen.add(keyString(pair.key()) + "=" + pair.value().getLong(0));
      store.remove(pair.key());
    }
    store.commit();

    assertThat(seen).containsExactlyInAnyOrder("a=1", "b=2", "c=3", "d=4");
    StateDelta delta = StateDeltas.drain(runId).deltas().get(0);
    assertThat(delta.puts()).isEmpty();
    assertThat(delta.removes()).containsExactlyInAnyOrder(keyBytes("a"), keyBytes("b"), keyBytes("c"));
  }

  @Test
  void aPartitionOpenedTwiceInOneBatchIsReadOnce() {
    table.apply(List.of(puts(BUCKET, Map.of("a", 1L))), 1);
    table.invalidate();
    DynamoDbStateStoreProvider provider = provider();
    StateIoCounts before = table.counts();

    long readOnly = provider.getReadStore(0).get(key("a")).getLong(0);
    StateStore writable = provider.getStore(0);
    writable.put(key("a"), value(readOnly + 1));
    writable.commit();

    assertThat(table.counts().minus(before).readRequests()).isEqualTo(1);
    assertThat(StateDeltas.drain(runId).deltas()).hasSize(1);
  }

  @Test
  void aWarmSecondBatchOverTheSameKeysMakesNoDynamoDbReads() {
    DynamoDbStateStoreProvider provider = provider();
    StateStore first = provider.getStore(0);
    first.put(key("a"), value(1));
    first.put(key("b"), value(1));
    first.commit();
    table.apply(StateDeltas.drain(runId).deltas(), 1);
    StateIoCounts before = table.counts();

    StateStore second = provider.getStore(1);
    second.put(key("a"), value(second.get(key("a")).getLong(0) + 1));
    second.put(key("b"), value(second.get(key("b")).getLong(0) + 1));
    second.commit();

    StateIoCounts cost = table.counts().minus(before);
    assertThat(cost.readRequests()).isZero();
    assertThat(cost.itemsRead()).isZero();
    StateDelta delta = StateDeltas.drain(runId).deltas().get(0);
    assertThat(count(delta.puts().get(keyBytes("a")))).isEqualTo(2);
    assertThat(count(delta.puts().get(keyBytes("b")))).isEqualTo(2);
  }

  @Test
  void uncommittedBatchesLeaveNoTraceForTheNextOne() {
    DynamoDbStateStoreProvider provider = provider();
    StateStore failed = provider.getStore(0);
    failed.put(key("a"), value(1));
    failed.abort();

    assertThat(provider.getStore(1).get(key("a"))).isNull();
    assertThat(StateDeltas.drain(runId).deltas()).isEmpty();
  }

  @Test
  void aChangedStateSchemaIsRefusedNamingTheOperator() {
    provider();
    StructType widerValue = new StructType().add("count", DataTypes.LongType).add("sum", DataTypes.DoubleType);
    StructType renamedKey = new StructType().add("renamed", DataTypes.StringType, false);

    assertThatThrownBy(() -> provider(new StateBucket(3, "default", 0), StateRows.KEY, widerValue, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("operator 3")
        .hasMessageContaining("SPINDRIFT_APP");
    provider(new StateBucket(3, "default", 0), renamedKey, StateRows.VALUE, 0);
  }

  @Test
  void prefixScanMatchesTheLeadingKeyColumns() {
    StructType keySchema = new StructType().add("user", DataTypes.StringType).add("session", DataTypes.LongType);
    StateBucket bucket = new StateBucket(4, "default", 0);
    StateStore store = provider(bucket, keySchema, StateRows.VALUE, 1).getStore(0);
    UnsafeProjection keys = UnsafeProjection.create(keySchema);
    for (String user : List.of("ann", "bob")) {
      for (long session = 1; session <= 3; session++) {
        store.put(keys.apply(new GenericInternalRow(new Object[] {UTF8String.fromString(user), session})),
            value(session));
      }
    }

    UnsafeRow prefix = UnsafeProjection.create(new StructType().add("user", DataTypes.StringType))
        .apply(new GenericInternalRow(new Object[] {UTF8String.fromString("bob")}));
    List<String> found = new ArrayList<>();
    scala.collection.Iterator<UnsafeRowPair> rows = store.prefixScan(prefix);
    while (rows.hasNext()) {
      UnsafeRow key = rows.next().key();
      found.add(key.getUTF8String(0) + "/" + key.getLong(1));
    }

    assertThat(found).containsExactlyInAnyOrder("bob/1", "bob/2", "bob/3");
  }

  @Test
  void aQueryOutsideTheRuntimeIsToldWhatIsMissing() {
    DynamoDbStateStoreProvider provider = new DynamoDbStateStoreProvider();
    StateStoreId id = new StateStoreId("/unused", 0, 0, "default");

    assertThatThrownBy(() -> provider.init(id, StateRows.KEY, StateRows.VALUE, 0, new StateStoreConf(),
        new Configuration(false)))
        .hasMessageContaining(DynamoDbStateStoreProvider.RUN_CONF);
  }
}
