package io.spindrift.replay;

import io.spindrift.commit.SingleTable;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * Where a replay has got to, one DynamoDB item per lane ({@code pk = REPLAY#<app>#<replay id>}, {@code sk =
 * LANE#<lane>}), written after each batch the runtime has committed. A replay started again with the same id
 * (the same app, stream and range unless {@code --replay-id} says otherwise) reads these items and resumes every
 * lane after its recorded position, keeping the counts so far; a lane marked done is skipped. The item is advisory
 * for speed and the summary: exactness comes from the app's lane positions, which drop anything replayed twice.
 */
final class ReplayProgress {
  private final DynamoDbClient dynamo;
  private final String table;
  private final String pk;

  ReplayProgress(DynamoDbClient dynamo, String table, String app, String replayId) {
    this.dynamo = dynamo;
    this.table = table;
    this.pk = "REPLAY#" + app + "#" + replayId;
  }

  void ensureTable() {
    SingleTable.ensure(dynamo, table, ScalarAttributeType.S);
  }

  /** Every lane's recorded progress (empty: a new replay, or no progress table yet). */
  Map<String, LaneProgress> read() {
    Map<String, LaneProgress> out = new LinkedHashMap<>();
    Map<String, AttributeValue> start = null;
    try {
      do {
        Map<String, AttributeValue> exclusiveStart = start;
        QueryResponse page = dynamo.query(b -> b.tableName(table).consistentRead(true)
            .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", s(pk)))
            .exclusiveStartKey(exclusiveStart));
        for (Map<String, AttributeValue> item : page.items()) {
          LaneProgress lane = decode(item);
          out.put(lane.lane(), lane);
        }
        start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
      } while (start != null);
    } catch (ResourceNotFoundException noTable) {
      return Map.of();
    }
    return out;
  }

  /** Records {@code progress} for its lane, replacing what was there. */
  void write(LaneProgress progress) {
    Map<String, AttributeValue> item = new HashMap<>();
    item.put("pk", s(pk));
    item.put("sk", s("LANE#" + progress.lane()));
    if (progress.position() != null) {
      item.put("position", s(progress.position()));
    }
    item.put("done", AttributeValue.builder().bool(progress.done()).build());
    item.put("updatedAtMs", n(System.currentTimeMillis()));
    progress.counts().asMap().forEach((name, value) -> item.put(name, n(value)));
    dynamo.putItem(b -> b.tableName(table).item(item));
  }

  /** Forgets this replay's progress ({@code --restart}). */
  void clear() {
    for (LaneProgress lane : read().values()) {
      dynamo.deleteItem(b -> b.tableName(table).key(Map.of("pk", s(pk), "sk", s("LANE#" + lane.lane()))));
    }
  }

  private static LaneProgress decode(Map<String, AttributeValue> item) {
    Map<String, Long> counts = new HashMap<>();
    for (String name : ReplayCounts.NAMES) {
      AttributeValue value = item.get(name);
      counts.put(name, value == null ? 0L : Long.parseLong(value.n()));
    }
    AttributeValue position = item.get("position");
    return new LaneProgress(item.get("sk").s().substring("LANE#".length()),
        position == null ? null : position.s(), item.get("done").bool(), ReplayCounts.of(counts));
  }

  private static AttributeValue s(String value) {
    return AttributeValue.builder().s(value).build();
  }

  private static AttributeValue n(long value) {
    return AttributeValue.builder().n(Long.toString(value)).build();
  }

  /** One lane's progress: the last position handled (null: none yet), whether the lane is done, counts so far. */
  record LaneProgress(String lane, String position, boolean done, ReplayCounts counts) {
    static LaneProgress fresh(String lane) {
      return new LaneProgress(lane, null, false, new ReplayCounts());
    }
  }

}
