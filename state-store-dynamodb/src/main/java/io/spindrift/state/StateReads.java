package io.spindrift.state;

import static io.spindrift.state.StateItems.s;

import io.spindrift.dynamodb.ItemReads;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

/**
 * Consistent reads of the durable state: a bucket's rows and marker (one Query, following spilled values to S3;
 * tombstones are skipped) and the markers of many buckets (one BatchGetItem per 100).
 */
final class StateReads {
  private final DynamoDbClient dynamo;
  private final String table;
  private final StateItems items;
  private final Function<String, StateSpill> spill;
  private final StateIo io;

  StateReads(DynamoDbClient dynamo, String table, StateItems items, Function<String, StateSpill> spill, StateIo io) {
    this.dynamo = dynamo;
    this.table = table;
    this.items = items;
    this.spill = spill;
    this.io = io;
  }

  /** The bucket's rows and applied seq as DynamoDB holds them now. */
  BucketState bucket(StateBucket bucket) {
    Map<KeyBytes, byte[]> rows = new HashMap<>();
    long[] applied = {0};
    QueryRequest query = QueryRequest.builder().tableName(table).keyConditionExpression("pk = :pk")
        .expressionAttributeValues(Map.of(":pk", s(items.bucketPk(bucket)))).build();
    ItemReads.queryAll(dynamo, query, page -> {
      io.readRequests.incrementAndGet();
      io.itemsRead.addAndGet(page.count());
      for (Map<String, AttributeValue> item : page.items()) {
        byte[] sk = item.get("sk").b().asByteArrayUnsafe();
        if (sk[0] == StateItems.MARKER) {
          applied[0] = Long.parseLong(item.get("seq").n());
        } else if (item.containsKey("v")) {
          rows.put(StateItems.keyOf(sk, item), item.get("v").b().asByteArray());
        } else if (item.containsKey("ref")) {
          String ref = item.get("ref").s();
          rows.put(StateItems.keyOf(sk, item), spill.apply("the spilled state row at " + ref).read(ref));
        }
      }
    });
    return new BucketState(rows, applied[0]);
  }

  /** The applied seq of each bucket the deltas change (a bucket never applied is absent). */
  Map<StateBucket, Long> markers(Collection<StateDelta> deltas) {
    Map<String, StateBucket> byPk = new HashMap<>();
    List<Map<String, AttributeValue>> keys = new ArrayList<>();
    for (StateDelta delta : deltas) {
      byPk.put(items.bucketPk(delta.bucket()), delta.bucket());
      keys.add(items.markerKey(delta.bucket()));
    }
    Map<StateBucket, Long> markers = new HashMap<>();
    for (Map<String, AttributeValue> item
        : ItemReads.batchGet(dynamo, table, keys, "pk, seq", io.metaReads::incrementAndGet)) {
      markers.put(byPk.get(item.get("pk").s()), Long.parseLong(item.get("seq").n()));
    }
    return markers;
  }
}
