package io.spindrift.commit;

import io.spindrift.dynamodb.ItemReads;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

/**
 * The {@link CommitLog} on one DynamoDB table keyed {@code pk}/{@code sk}:
 * {@code APP#<app>/HEAD} {seq}, {@code APP#<app>/PUBLISHED} {seq}, {@code APP#<app>/LANE#<lane>} {position, seq}
 * and {@code APP#<app>/COMMIT#<seq>} (one {@link CommitRecord}). A commit is one {@code TransactWriteItems}
 * conditioned on the head and on every lane position as read; a failed condition is a {@link
 * CommitResult#CONFLICT}, never a partial write. Publication is tracked by one watermark, {@code PUBLISHED},
 * which only rises: commits at or below it are published, the ones above it are rolled forward in seq order.
 */
public final class DynamoDbCommitLog implements CommitLog {
  private static final int MAX_TRANSACTION_ITEMS = 100;
  private final DynamoDbClient dynamo;
  private final String table;

  public DynamoDbCommitLog(DynamoDbClient dynamo, String table) {
    this.dynamo = dynamo;
    this.table = table;
  }

  public String table() {
    return table;
  }

  /** Creates the table when it does not exist (the CDK app creates it in AWS; local stacks start empty). */
  public void ensureTable() {
    SingleTable.ensure(dynamo, table, ScalarAttributeType.S);
  }

  @Override
  public LogSnapshot read(String app, Collection<String> lanes) {
    List<Map<String, AttributeValue>> keys = new ArrayList<>();
    keys.add(key(app, "HEAD"));
    keys.add(key(app, "PUBLISHED"));
    lanes.forEach(lane -> keys.add(key(app, "LANE#" + lane)));
    long head = 0;
    long published = 0;
    String checkpoint = null;
    Map<String, String> positions = new HashMap<>();
    for (Map<String, AttributeValue> item : ItemReads.batchGet(dynamo, table, keys, null, () -> {})) {
      String sk = item.get("sk").s();
      if (sk.equals("HEAD")) {
        head = Long.parseLong(item.get("seq").n());
        checkpoint = item.containsKey("checkpoint") ? item.get("checkpoint").s() : null;
      } else if (sk.equals("PUBLISHED")) {
        published = Long.parseLong(item.get("seq").n());
      } else {
        positions.put(sk.substring("LANE#".length()), item.get("position").s());
      }
    }
    return new LogSnapshot(head, published, positions, checkpoint);
  }

  @Override
  public List<CommitRecord> commits(String app, long afterSeq, long toSeq) {
    List<CommitRecord> out = new ArrayList<>();
    if (toSeq <= afterSeq) {
      return out;
    }
    QueryRequest query = QueryRequest.builder().tableName(table)
        .keyConditionExpression("pk = :pk AND sk BETWEEN :a AND :b")
        .expressionAttributeValues(Map.of(
            ":pk", s(pk(app)), ":a", s(commitSk(afterSeq + 1)), ":b", s(commitSk(toSeq))))
        .build();
    ItemReads.queryAll(dynamo, query, page -> page.items().forEach(item -> out.add(CommitCodec.decode(item))));
    return out;
  }

  @Override
  public CommitResult tryCommit(String app, CommitRecord commit, String checkpoint) {
    if (commit.lanes().size() + 2 > MAX_TRANSACTION_ITEMS) {
      throw new IllegalArgumentException("A batch may span at most " + (MAX_TRANSACTION_ITEMS - 2)
          + " lanes; this one spans " + commit.lanes().size() + ". Lower the event-source batch size.");
    }
    List<TransactWriteItem> items = new ArrayList<>();
    items.add(TransactWriteItem.builder().update(headUpdate(app, commit.seq(), checkpoint)).build());
    for (LaneRange range : commit.lanes()) {
      items.add(TransactWriteItem.builder().put(lanePut(app, range, commit.seq())).build());
    }
    items.add(TransactWriteItem.builder().put(Put.builder().tableName(table)
        .item(CommitCodec.encode(pk(app), commitSk(commit.seq()), commit))
        .conditionExpression("attribute_not_exists(pk)").build()).build());
    try {
      dynamo.transactWriteItems(b -> b.transactItems(items));
      return CommitResult.COMMITTED;
    } catch (TransactionCanceledException cancelled) {
      return CommitResult.CONFLICT;
    }
  }

  private Update headUpdate(String app, long newSeq, String checkpoint) {
    Map<String, AttributeValue> values = new HashMap<>();
    values.put(":new", n(newSeq));
    String update = "SET seq = :new";
    if (checkpoint != null) {
      update += ", checkpoint = :checkpoint";
      values.put(":checkpoint", s(checkpoint));
    }
    String condition;
    if (newSeq == 1) {
      condition = "attribute_not_exists(pk)";
    } else {
      condition = "seq = :old";
      values.put(":old", n(newSeq - 1));
    }
    return Update.builder().tableName(table).key(key(app, "HEAD"))
        .updateExpression(update).conditionExpression(condition)
        .expressionAttributeValues(values).build();
  }

  private Put lanePut(String app, LaneRange range, long seq) {
    Map<String, AttributeValue> item = new LinkedHashMap<>(key(app, "LANE#" + range.lane()));
    item.put("position", s(range.last()));
    item.put("seq", n(seq));
    Put.Builder put = Put.builder().tableName(table).item(item);
    if (range.previous() == null) {
      put.conditionExpression("attribute_not_exists(pk)");
    } else {
      put.conditionExpression("#position = :prev")
          .expressionAttributeNames(Map.of("#position", "position"))
          .expressionAttributeValues(Map.of(":prev", s(range.previous())));
    }
    return put.build();
  }

  @Override
  public void markPublished(String app, long seq) {
    try {
      dynamo.updateItem(b -> b.tableName(table).key(key(app, "PUBLISHED"))
          .updateExpression("SET seq = :s")
          .conditionExpression("attribute_not_exists(seq) OR seq < :s")
          .expressionAttributeValues(Map.of(":s", n(seq))));
    } catch (ConditionalCheckFailedException alreadyFurther) {
      // another invocation published this far or further: the watermark only rises
    }
  }

  static String pk(String app) {
    return "APP#" + app;
  }

  static String commitSk(long seq) {
    return String.format("COMMIT#%020d", seq);
  }

  private static Map<String, AttributeValue> key(String app, String sk) {
    return Map.of("pk", s(pk(app)), "sk", s(sk));
  }

  static AttributeValue s(String value) {
    return AttributeValue.builder().s(value).build();
  }

  static AttributeValue n(long value) {
    return AttributeValue.builder().n(Long.toString(value)).build();
  }
}
