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
 *
 * <p>A commit item must stay under DynamoDB's 400 KB: stages (stage documents, composite refs of a fan-out's
 * children, inline state deltas) larger than {@link #MAX_INLINE_STAGES} bytes are written through the {@link
 * CommitSpill} before the transaction, and the item holds only the object's reference; {@link #commits} resolves
 * it, so readers see the same {@link CommitRecord}. Without a spill such a commit is refused.
 */
public final class DynamoDbCommitLog implements CommitLog {
  /** Stages larger than this (bytes, as DynamoDB counts them) are spilled: the rest of the item stays well under. */
  public static final int MAX_INLINE_STAGES = 300 * 1024;
  private static final int MAX_TRANSACTION_ITEMS = 100;
  private final DynamoDbClient dynamo;
  private final String table;
  private final CommitSpill spill;
  /** The last transaction's spilled stages: a rebased commit of the same transaction does not write them again. */
  private volatile Spilled lastSpilled;

  private record Spilled(String app, String txnId, String ref) {}

  /** A commit log that keeps every commit's stages inline (reading and small commits only). */
  public DynamoDbCommitLog(DynamoDbClient dynamo, String table) {
    this(dynamo, table, null);
  }

  /**
   * @param spill where stages too large for the item go, and where spilled stages are read from (null: none;
   *     committing large stages or reading a spilled commit then fails)
   */
  public DynamoDbCommitLog(DynamoDbClient dynamo, String table, CommitSpill spill) {
    this.dynamo = dynamo;
    this.table = table;
    this.spill = spill;
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
    ItemReads.queryAll(dynamo, query,
        page -> page.items().forEach(item -> out.add(CommitCodec.decode(item, this::readSpilled))));
    return out;
  }

  private byte[] readSpilled(String ref) {
    if (spill == null) {
      throw new IllegalStateException("A commit's stages are spilled to " + ref + " but this commit log was built"
          + " without a CommitSpill to read them");
    }
    return spill.get(ref);
  }

  /** Where {@code commit}'s stages go: null to keep them in the item, else the spilled object's reference. */
  private String spillIfLarge(String app, CommitRecord commit) {
    long size = CommitCodec.inlineSize(commit.stages());
    if (size <= MAX_INLINE_STAGES) {
      return null;
    }
    if (spill == null) {
      throw new IllegalStateException("The stages of commit " + commit.txnId() + " (" + commit.describeLanes()
          + ") take " + size + " bytes, more than a commit item holds (" + MAX_INLINE_STAGES + "), and this commit"
          + " log has no CommitSpill to write them to S3");
    }
    Spilled last = lastSpilled;
    if (last != null && last.app().equals(app) && last.txnId().equals(commit.txnId())) {
      return last.ref();
    }
    String ref = spill.put(app, commit.txnId(), CommitCodec.stagesJson(commit.stages()));
    lastSpilled = new Spilled(app, commit.txnId(), ref);
    return ref;
  }

  @Override
  public CommitResult tryCommit(String app, CommitRecord commit, String checkpoint) {
    if (commit.lanes().size() + 2 > MAX_TRANSACTION_ITEMS) {
      throw new IllegalArgumentException("A batch may span at most " + (MAX_TRANSACTION_ITEMS - 2)
          + " lanes; this one spans " + commit.lanes().size() + ". Lower the event-source batch size.");
    }
    String stagesObject = spillIfLarge(app, commit);
    List<TransactWriteItem> items = new ArrayList<>();
    items.add(TransactWriteItem.builder().update(headUpdate(app, commit.seq(), checkpoint)).build());
    for (LaneRange range : commit.lanes()) {
      items.add(TransactWriteItem.builder().put(lanePut(app, range, commit.seq())).build());
    }
    items.add(TransactWriteItem.builder().put(Put.builder().tableName(table)
        .item(CommitCodec.encode(pk(app), commitSk(commit.seq()), commit, stagesObject))
        .conditionExpression("attribute_not_exists(pk)").build()).build());
    try {
      dynamo.transactWriteItems(b -> b.transactItems(items));
      return CommitResult.COMMITTED;
    } catch (TransactionCanceledException cancelled) {
      if (cancelled.hasCancellationReasons() && cancelled.cancellationReasons().stream()
          .anyMatch(reason -> "ValidationError".equals(reason.code()))) {
        // not a conflict: the same write would be refused again (e.g. an item over DynamoDB's size limit)
        throw new IllegalStateException("DynamoDB refused commit " + commit.txnId() + " ("
            + commit.describeLanes() + "): " + cancelled.getMessage(), cancelled);
      }
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
