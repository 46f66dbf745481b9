package io.spindrift.state;

import static io.spindrift.state.StateRows.count;
import static io.spindrift.state.StateRows.keyBytes;
import static io.spindrift.state.StateRows.puts;
import static io.spindrift.state.StateRows.removes;
import static io.spindrift.state.StateRows.valueBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.model.S3Object;

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

  /**
   * Issue 14, defect 6: a writer that read the markers, stalled, and thaws after a later commit removed its key and
   * the tombstone expired (simulated by deleting it, as DynamoDB's TTL does) must not bring the key back. The
   * bucket's marker fences it: a row write of seq s is refused once the marker is at or past s.
   */
  @Test
  void aStalledWriteOfAnOlderCommitCannotResurrectAKeyWhoseTombstoneExpired() {
    try (StateTable table = LocalState.freshApp()) {
      table.apply(List.of(puts(B0, Map.of("k", 5L, "other", 1L))), 5);
      table.apply(List.of(removes(B0, "k")), 7);
      LocalState.dynamo().deleteItem(b -> b.tableName(table.table()).key(Map.of(
          "pk", durableItem(table, B0, keyBytes("other")).get("pk"),
          "sk", AttributeValue.builder().b(SdkBytes.fromByteArray(StateTable.sortKey(keyBytes("k")))).build())));
      assertThat(durableItem(table, B0, keyBytes("k"))).as("the tombstone is gone").isEmpty();

      table.writeRowsAsIfStalled(List.of(puts(B0, Map.of("k", 5L))), 5);

      BucketState durable = table.readDurable(B0);
      assertThat(durable.get(keyBytes("k"))).as("the removed key stays removed").isNull();
      assertThat(count(durable.get(keyBytes("other")))).isEqualTo(1);
      assertThat(durable.appliedSeq()).isEqualTo(7);
    }
  }

  /** A retention (SPINDRIFT_STATE_RETENTION_HOURS) is DynamoDB's TTL backstop; without one, live rows never expire. */
  @Test
  void aRetentionStampsRowsWithATtlAndNoRetentionLeavesLiveRowsWithout() {
    try (StateTable kept = new StateTable(LocalState.dynamo(), StateTable.DEFAULT_TABLE,
            "test-" + java.util.UUID.randomUUID(), java.time.Duration.ofHours(2));
        StateTable forever = LocalState.freshApp()) {
      kept.apply(List.of(puts(B0, Map.of("a", 1L, "b", 2L))), 1);
      forever.apply(List.of(puts(B0, Map.of("a", 1L))), 1);
      long now = java.time.Instant.now().getEpochSecond();

      List<Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> keptRows = rows(kept);
      assertThat(keptRows).hasSize(2);
      assertThat(keptRows).allSatisfy(row ->
          assertThat(Long.parseLong(row.get("ttl").n())).isBetween(now + 7100, now + 7300));
      List<Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> foreverRows = rows(forever);
      assertThat(foreverRows).hasSize(1);
      assertThat(foreverRows.get(0)).doesNotContainKey("ttl");
    }
  }

  /** The app's state rows (items with a value) as DynamoDB holds them. */
  private static List<Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> rows(
      StateTable table) {
    return LocalState.dynamo().scanPaginator(b -> b.tableName(table.table()).consistentRead(true)
            .filterExpression("begins_with(pk, :app) AND attribute_exists(v)")
            .expressionAttributeValues(Map.of(":app",
                software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("APP#" + table.app() + "#OP#"))))
        .items().stream().toList();
  }

  /**
   * An applier of commit 1 passes the marker check, then its write stalls in flight; meanwhile another invocation
   * applies commits 1 and 2 (which changes "a" and removes "b"). The stalled write lands last and changes nothing.
   */
  @Test
  void anOlderCommitsStalledWriteNeitherOverwritesNewerRowsNorRevivesRemovedOnes() throws Exception {
    CountDownLatch stalled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DynamoDbClient stalling = stallingWrites(LocalState.dynamo(), stalled, release);
    try (StateTable other = LocalState.freshApp();
        StateTable slow = new StateTable(stalling, other.table(), other.app())) {
      StateDelta commit1 = puts(B0, Map.of("a", 1L, "b", 1L));
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<Integer> late = pool.submit(() -> slow.apply(List.of(commit1), 1));
      assertThat(stalled.await(30, TimeUnit.SECONDS)).as("the slow applier reached its write").isTrue();

      other.apply(List.of(commit1), 1);
      other.apply(List.of(new StateDelta(B0, Map.of(keyBytes("a"), valueBytes(2)), Set.of(keyBytes("b")))), 2);
      release.countDown();
      late.get(30, TimeUnit.SECONDS);
      pool.shutdown();

      BucketState durable = other.readDurable(B0);
      assertThat(durable.rows()).containsOnlyKeys(keyBytes("a"));
      assertThat(count(durable.get(keyBytes("a")))).isEqualTo(2);
      assertThat(durable.appliedSeq()).isEqualTo(2);
    }
  }

  @Test
  void aCrashBetweenRowsAndMarkersIsRepairedByApplyingAgain() {
    try (StateTable table = LocalState.freshApp(); StateTable retry = LocalState.sameApp(table)) {
      table.apply(List.of(puts(B0, Map.of("a", 1L)), puts(B1, Map.of("b", 1L))), 1);
      List<StateDelta> commit2 = List.of(
          new StateDelta(B0, Map.of(keyBytes("a"), valueBytes(2)), Set.of()), removes(B1, "b"));
      assertThatThrownBy(() -> table.apply(commit2, 2, () -> {
        throw new IllegalStateException("crash");
      })).hasMessage("crash");
      assertThat(retry.readDurable(B0).appliedSeq()).as("rows written, marker not raised").isEqualTo(1);

      assertThat(retry.apply(commit2, 2)).isEqualTo(2);

      assertThat(count(retry.readDurable(B0).get(keyBytes("a")))).isEqualTo(2);
      assertThat(retry.readDurable(B1).rows()).isEmpty();
      assertThat(retry.readDurable(B1).appliedSeq()).isEqualTo(2);
    }
  }

  /** {@code client}, except that its first TransactWriteItems waits for {@code release} (after counting down). */
  private static DynamoDbClient stallingWrites(DynamoDbClient client, CountDownLatch stalled, CountDownLatch release) {
    AtomicBoolean first = new AtomicBoolean(true);
    return (DynamoDbClient) Proxy.newProxyInstance(DynamoDbClient.class.getClassLoader(),
        new Class<?>[] {DynamoDbClient.class}, (proxy, method, args) -> {
          if (method.getName().equals("transactWriteItems") && first.getAndSet(false)) {
            stalled.countDown();
            release.await();
          }
          try {
            return method.invoke(client, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
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
  void writesGoInTransactionsOf100() {
    try (StateTable table = LocalState.freshApp()) {
      Map<String, Long> many = new HashMap<>();
      for (int i = 0; i < 120; i++) {
        many.put("key-" + i, (long) i);
      }
      StateIoCounts before = table.counts();

      table.apply(List.of(puts(B0, many), puts(B1, Map.of("z", 1L))), 1);

      StateIoCounts cost = table.counts().minus(before);
      assertThat(cost.itemsWritten()).isEqualTo(121);
      assertThat(cost.writeRequests()).as("121 rows in transactions of 100").isEqualTo(2);
      assertThat(cost.metaReads()).as("one BatchGetItem for both markers").isEqualTo(1);
      assertThat(table.readDurable(B0).size()).isEqualTo(120);
    }
  }

  @Test
  void longKeysRoundTripAndLargeRowsNeedASpill() {
    try (StateTable table = LocalState.freshApp()) {
      KeyBytes longKey = KeyBytes.wrap(new byte[5_000]);
      table.apply(List.of(new StateDelta(B0, Map.of(longKey, valueBytes(3)), Set.of())), 1);
      assertThat(count(table.readDurable(B0).get(longKey))).isEqualTo(3);

      StateDelta huge = new StateDelta(B1, Map.of(keyBytes("big"), new byte[400 * 1024]), Set.of());
      assertThatThrownBy(() -> table.apply(List.of(huge), 2))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("operator 0, store default, partition 1")
          .hasMessageContaining("without a StateSpill");
      assertThatThrownBy(() -> StateTable.checkKeySize(B1, StateTable.MAX_ROW_BYTES + 1))
          .hasMessageContaining("exceeds " + StateTable.MAX_ROW_BYTES);
    }
  }

  @Test
  void aRowTooLargeForAnItemSpillsToS3AndAnyContainerReadsItBack() {
    byte[] big = filled(500 * 1024, 7);
    byte[] bigToo = filled(380 * 1024, 8);
    KeyBytes longKey = KeyBytes.wrap(filled(5_000, 1));
    try (StateTable table = LocalState.freshAppWithSpill();
        StateTable other = LocalState.withSpill(LocalState.dynamo(), table.app())) {
      table.read(B0);
      table.apply(List.of(new StateDelta(B0, Map.of(keyBytes("big"), big, longKey, bigToo, keyBytes("small"),
          valueBytes(1)), Set.of())), 1);

      assertThat(spilledObjects(table.app())).hasSize(2);
      assertThat(durableItem(table, B0, keyBytes("big"))).containsKey("ref").doesNotContainKey("v");
      assertThat(durableItem(table, B0, keyBytes("small"))).containsKey("v").doesNotContainKey("ref");
      BucketState read = other.read(B0);
      assertThat(read.get(keyBytes("big"))).isEqualTo(big);
      assertThat(read.get(longKey)).isEqualTo(bigToo);
      assertThat(count(read.get(keyBytes("small")))).isEqualTo(1);
      assertThat(table.read(B0).get(keyBytes("big"))).as("the warm cache").isEqualTo(big);

      assertThat(table.apply(List.of(new StateDelta(B0, Map.of(keyBytes("big"), valueBytes(2)), Set.of(longKey))),
          2)).isEqualTo(1);
      other.refresh(2, Set.of(B0));
      assertThat(other.read(B0).rows()).containsOnlyKeys(keyBytes("big"), keyBytes("small"));
      assertThat(count(other.read(B0).get(keyBytes("big")))).as("overwritten inline").isEqualTo(2);
      assertThat(durableItem(table, B0, keyBytes("big"))).containsKey("v").doesNotContainKey("ref");
    }
  }

  /**
   * As {@link #anOlderCommitsStalledWriteNeitherOverwritesNewerRowsNorRevivesRemovedOnes}, with values that spill:
   * the stalled applier has written its objects, and its pointers still lose to the newer commit's rows.
   */
  @Test
  void spilledRowsAreSeqConditionedLikeEveryOtherRow() throws Exception {
    CountDownLatch stalled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DynamoDbClient stalling = stallingWrites(LocalState.dynamo(), stalled, release);
    byte[] first = filled(450 * 1024, 1);
    byte[] second = filled(420 * 1024, 2);
    try (StateTable other = LocalState.freshAppWithSpill();
        StateTable slow = LocalState.withSpill(stalling, other.app())) {
      StateDelta commit1 = new StateDelta(B0, Map.of(keyBytes("a"), first, keyBytes("b"), first), Set.of());
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<Integer> late = pool.submit(() -> slow.apply(List.of(commit1), 1));
      assertThat(stalled.await(30, TimeUnit.SECONDS)).as("the slow applier reached its write").isTrue();

      other.apply(List.of(commit1), 1);
      other.apply(List.of(new StateDelta(B0, Map.of(keyBytes("a"), second), Set.of(keyBytes("b")))), 2);
      release.countDown();
      late.get(30, TimeUnit.SECONDS);
      pool.shutdown();

      BucketState durable = other.readDurable(B0);
      assertThat(durable.rows()).containsOnlyKeys(keyBytes("a"));
      assertThat(durable.get(keyBytes("a"))).isEqualTo(second);
      assertThat(durable.appliedSeq()).isEqualTo(2);
      assertThat(spilledObjects(other.app())).as("a@1 and b@1 (written twice, same names), a@2").hasSize(3);
    }
  }

  @Test
  void stagedDeltasRoundTripThroughS3() {
    try (StateTable table = LocalState.freshAppWithSpill()) {
      byte[] big = filled(400 * 1024, 5);
      List<StateDelta> deltas = List.of(new StateDelta(B0, Map.of(keyBytes("big"), big), Set.of()), removes(B1, "c"));

      String ref = table.stageDeltas("txn-1", StateDeltaCodec.encode(deltas));

      assertThat(ref).isEqualTo("s3://" + LocalState.SPILL_BUCKET + "/" + table.app() + "/stage/txn-1/state-deltas.bin");
      List<StateDelta> back = table.stagedDeltas(ref);
      assertThat(back).hasSize(2);
      assertThat(back.get(0).puts().get(keyBytes("big"))).isEqualTo(big);
      assertThat(back.get(1).removes()).containsExactly(keyBytes("c"));
      assertThatThrownBy(() -> table.stagedDeltas(ref.replace("txn-1", "txn-2"))).hasMessageContaining("is missing");
    }
  }

  private static byte[] filled(int length, int seed) {
    byte[] bytes = new byte[length];
    new java.util.Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** The keys of the objects under {@code app}'s state location. */
  private static List<String> spilledObjects(String app) {
    return LocalState.s3().listObjectsV2Paginator(b -> b.bucket(LocalState.SPILL_BUCKET).prefix(app + "/state/"))
        .contents().stream().map(S3Object::key).toList();
  }

  /** The DynamoDB item of {@code key} in {@code bucket}, as the layout in StateTable's Javadoc places it. */
  private static Map<String, AttributeValue> durableItem(StateTable table, StateBucket bucket, KeyBytes key) {
    String pk = "APP#" + table.app() + "#OP#" + bucket.operatorId() + "#STORE#" + bucket.storeName() + "#P#"
        + bucket.partition();
    return LocalState.dynamo().getItem(b -> b.tableName(table.table()).consistentRead(true).key(Map.of(
        "pk", AttributeValue.builder().s(pk).build(),
        "sk", AttributeValue.builder().b(SdkBytes.fromByteArray(StateTable.sortKey(key))).build()))).item();
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
