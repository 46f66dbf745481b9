package io.spindrift.commit;

import io.spindrift.dynamodb.ItemReads;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

/**
 * The {@link CommitLog} on one DynamoDB table keyed {@code pk}/{@code sk}:
 * {@code APP#<app>/HEAD} {seq, checkpoint, bv<bucket> per bucket a sequenced bucket commit wrote, bucketCommits once
 * one was sequenced}, {@code APP#<app>/PUBLISHED} {seq}, {@code APP#<app>/LANE#<lane>} {position, seq
 * or txnId}, {@code APP#<app>/COMMIT#<seq>} (one {@link CommitRecord}) and {@code APP#<app>/PENDING#<txnId>} (a
 * lane or bucket commit not yet sequenced) and {@code APP#<app>/BUCKET#<n>} {bucketVersion} (a stateful app's
 * per-partition head, written only by bucket commits). A head commit is one {@code TransactWriteItems} conditioned on the head and on
 * every lane position as read; a lane commit ({@link #tryCommitLanes}) is conditioned on its lanes only and writes
 * a PENDING item; a bucket commit ({@link #tryCommitBuckets}) is a lane commit also conditioned on, and moving,
 * the versions of the buckets it writes; {@link #sequence} moves pending items to COMMIT items under the head;
 * {@link #tryCommitBucketsSequenced} is a bucket commit and its sequencing in one transaction. A failed condition is a
 * {@link CommitResult#CONFLICT}, never a partial write. Logs written before lane or bucket commits existed have no
 * PENDING or BUCKET items and read as they always did. Publication is tracked by one watermark, {@code PUBLISHED},
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
  /** The items of the last {@link #pending} read, by txn id: {@link #sequence} moves them as they are. */
  private final Map<String, Map<String, AttributeValue>> pendingItems = new ConcurrentHashMap<>();

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
    Map<Integer, Long> bucketVersions = new HashMap<>();
    boolean bucketCommits = false;
    for (Map<String, AttributeValue> item : ItemReads.batchGet(dynamo, table, keys, null, () -> {})) {
      String sk = item.get("sk").s();
      if (sk.equals("HEAD")) {
        head = Long.parseLong(item.get("seq").n());
        checkpoint = item.containsKey("checkpoint") ? item.get("checkpoint").s() : null;
        bucketCommits = item.containsKey(BUCKET_COMMITS);
        item.forEach((name, value) -> {
          if (name.startsWith(HEAD_BUCKET)) {
            bucketVersions.put(Integer.parseInt(name.substring(HEAD_BUCKET.length())), Long.parseLong(value.n()));
          }
        });
      } else if (sk.equals("PUBLISHED")) {
        published = Long.parseLong(item.get("seq").n());
      } else {
        positions.put(sk.substring("LANE#".length()), item.get("position").s());
      }
    }
    return new LogSnapshot(head, published, positions, checkpoint, bucketVersions, bucketCommits);
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
      items.add(TransactWriteItem.builder().put(lanePut(app, range, n(commit.seq()), "seq")).build());
    }
    items.add(TransactWriteItem.builder().put(Put.builder().tableName(table)
        .item(CommitCodec.encode(pk(app), commitSk(commit.seq()), commit, stagesObject))
        .conditionExpression("attribute_not_exists(pk)").build()).build());
    return transact(commit, items);
  }

  @Override
  public CommitResult tryCommitLanes(String app, CommitRecord commit) {
    if (commit.lanes().size() + 1 > MAX_TRANSACTION_ITEMS) {
      throw new IllegalArgumentException("A batch may span at most " + (MAX_TRANSACTION_ITEMS - 2)
          + " lanes; this one spans " + commit.lanes().size() + ". Lower the event-source batch size.");
    }
    String stagesObject = spillIfLarge(app, commit);
    List<TransactWriteItem> items = new ArrayList<>();
    for (LaneRange range : commit.lanes()) {
      items.add(TransactWriteItem.builder().put(lanePut(app, range, s(commit.txnId()), "txnId")).build());
    }
    return commitPending(app, commit, items, stagesObject);
  }

  /** {@code items} and the PENDING item of {@code commit}, in one transaction. */
  private CommitResult commitPending(String app, CommitRecord commit, List<TransactWriteItem> items,
      String stagesObject) {
    Map<String, AttributeValue> pendingItem =
        CommitCodec.encode(pk(app), pendingSk(commit.txnId()), commit.withSeq(0), stagesObject);
    items.add(TransactWriteItem.builder().put(Put.builder().tableName(table).item(pendingItem)
        .conditionExpression("attribute_not_exists(pk)").build()).build());
    CommitResult result = transact(commit, items);
    if (result == CommitResult.COMMITTED) {
      pendingItems.put(commit.txnId(), pendingItem); // its sequencing writes it as COMMIT# without reading it back
    }
    return result;
  }

  @Override
  public List<CommitRecord> pending(String app) {
    QueryRequest query = QueryRequest.builder().tableName(table)
        .keyConditionExpression("pk = :pk AND begins_with(sk, :p)")
        .expressionAttributeValues(Map.of(":pk", s(pk(app)), ":p", s(PENDING)))
        .consistentRead(true) // a pending commit missed here would be sequenced after a later one of its lane (I5)
        .build();
    List<CommitRecord> out = new ArrayList<>();
    ItemReads.queryAll(dynamo, query, page -> page.items().forEach(item -> {
      CommitRecord commit = CommitCodec.decode(item, this::readSpilled);
      pendingItems.put(commit.txnId(), item);
      out.add(commit);
    }));
    return out;
  }

  @Override
  public Map<Integer, Long> bucketVersions(String app, int buckets) {
    List<Map<String, AttributeValue>> keys = new ArrayList<>();
    Map<Integer, Long> versions = new HashMap<>();
    for (int bucket = 0; bucket < buckets; bucket++) {
      keys.add(key(app, bucketSk(bucket)));
      versions.put(bucket, 0L);
    }
    for (Map<String, AttributeValue> item : ItemReads.batchGet(dynamo, table, keys, "sk, " + BUCKET_VERSION, () -> {})) {
      versions.put(Integer.parseInt(item.get("sk").s().substring(BUCKET.length())),
          Long.parseLong(item.get(BUCKET_VERSION).n()));
    }
    return versions;
  }

  @Override
  public CommitResult tryCommitBuckets(String app, CommitRecord commit) {
    if (commit.lanes().size() + commit.buckets().size() + 1 > MAX_TRANSACTION_ITEMS) {
      throw new IllegalArgumentException("A bucket commit may write at most " + (MAX_TRANSACTION_ITEMS - 1)
          + " lanes and buckets; this one writes " + commit.lanes().size() + " lanes and " + commit.buckets().size()
          + " buckets. Lower the event-source batch size.");
    }
    String stagesObject = spillIfLarge(app, commit);
    List<TransactWriteItem> items = new ArrayList<>();
    for (LaneRange range : commit.lanes()) {
      items.add(TransactWriteItem.builder().put(lanePut(app, range, s(commit.txnId()), "txnId")).build());
    }
    for (BucketVersion bucket : commit.buckets()) {
      items.add(TransactWriteItem.builder().update(bucketUpdate(app, bucket)).build());
    }
    return commitPending(app, commit, items, stagesObject);
  }

  @Override
  public CommitResult tryCommitBucketsSequenced(String app, long headSeq, CommitRecord commit, String checkpoint) {
    if (commit.lanes().size() + commit.buckets().size() + 2 > MAX_TRANSACTION_ITEMS) {
      return CommitResult.HEAD_MOVED; // too many items beside the head: the pending bucket commit decides
    }
    String stagesObject = spillIfLarge(app, commit);
    List<CommitRecord> sequenced = List.of(commit);
    List<TransactWriteItem> items = new ArrayList<>();
    items.add(TransactWriteItem.builder().update(sequencedHead(app, headSeq, sequenced, checkpoint)).build());
    for (LaneRange range : commit.lanes()) {
      items.add(TransactWriteItem.builder().put(lanePut(app, range, s(commit.txnId()), "txnId")).build());
    }
    for (BucketVersion bucket : commit.buckets()) {
      items.add(TransactWriteItem.builder().update(bucketUpdate(app, bucket)).build());
    }
    long seq = headSeq + 1;
    items.add(TransactWriteItem.builder().put(Put.builder().tableName(table)
        .item(CommitCodec.encode(pk(app), commitSk(seq), commit.withSeq(seq), stagesObject))
        .conditionExpression("attribute_not_exists(pk)").build()).build());
    try {
      dynamo.transactWriteItems(b -> b.transactItems(items));
      return CommitResult.COMMITTED;
    } catch (TransactionCanceledException cancelled) {
      refuseInvalid(commit, cancelled);
      if (!cancelled.hasCancellationReasons()) {
        return CommitResult.CONFLICT;
      }
      List<CancellationReason> reasons = cancelled.cancellationReasons();
      for (int i = 1; i < reasons.size() - 1; i++) {
        String code = reasons.get(i).code();
        if (code != null && !"None".equals(code)) {
          return CommitResult.CONFLICT; // a lane or a bucket moved: the batch re-runs
        }
      }
      return CommitResult.HEAD_MOVED;
    }
  }

  private Update bucketUpdate(String app, BucketVersion bucket) {
    Map<String, AttributeValue> values = new HashMap<>();
    values.put(":next", n(bucket.next()));
    Update.Builder update = Update.builder().tableName(table).key(key(app, bucketSk(bucket.bucket())))
        .updateExpression("SET " + BUCKET_VERSION + " = :next");
    if (bucket.read() == 0) {
      update.conditionExpression("attribute_not_exists(pk)");
    } else {
      update.conditionExpression(BUCKET_VERSION + " = :read");
      values.put(":read", n(bucket.read()));
    }
    return update.expressionAttributeValues(values).build();
  }

  @Override
  public CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder) {
    return sequence(app, headSeq, inOrder, null);
  }

  @Override
  public CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder, String checkpoint) {
    if (inOrder.isEmpty()) {
      return CommitResult.COMMITTED;
    }
    if (inOrder.size() > MAX_SEQUENCED) {
      throw new IllegalArgumentException("At most " + MAX_SEQUENCED + " commits are sequenced at a time, not "
          + inOrder.size());
    }
    List<TransactWriteItem> items = new ArrayList<>();
    items.add(TransactWriteItem.builder().update(sequencedHead(app, headSeq, inOrder, checkpoint)).build());
    long seq = headSeq;
    for (CommitRecord commit : inOrder) {
      seq++;
      Map<String, AttributeValue> item = new HashMap<>(pendingItem(app, commit.txnId()));
      item.put("sk", s(commitSk(seq)));
      item.put("seq", n(seq));
      items.add(TransactWriteItem.builder().delete(Delete.builder().tableName(table)
          .key(key(app, pendingSk(commit.txnId()))).conditionExpression("attribute_exists(pk)").build()).build());
      items.add(TransactWriteItem.builder().put(Put.builder().tableName(table).item(item)
          .conditionExpression("attribute_not_exists(pk)").build()).build());
    }
    CommitResult result = transact(inOrder.get(0), items);
    if (result == CommitResult.COMMITTED) {
      inOrder.forEach(commit -> pendingItems.remove(commit.txnId()));
    }
    return result;
  }

  /**
   * The head moved from {@code headSeq} past {@code inOrder}: the new seq, the checkpoint (null: as it is) and,
   * per bucket they wrote, the version the last of them left it at ({@code bv<bucket>}).
   */
  private Update sequencedHead(String app, long headSeq, List<CommitRecord> inOrder, String checkpoint) {
    Map<String, AttributeValue> values = new HashMap<>();
    values.put(":new", n(headSeq + inOrder.size()));
    StringBuilder update = new StringBuilder("SET seq = :new");
    if (checkpoint != null) {
      update.append(", checkpoint = :checkpoint");
      values.put(":checkpoint", s(checkpoint));
    }
    Map<Integer, Long> versions = new java.util.TreeMap<>();
    inOrder.forEach(commit -> commit.buckets().forEach(bucket -> versions.merge(bucket.bucket(), bucket.next(),
        Math::max)));
    if (inOrder.stream().anyMatch(CommitRecord::isBucketCommit)) {
      update.append(", ").append(BUCKET_COMMITS).append(" = :bucketCommits");
      values.put(":bucketCommits", AttributeValue.builder().bool(true).build());
    }
    versions.forEach((bucket, version) -> {
      update.append(", ").append(HEAD_BUCKET).append(bucket).append(" = :").append(HEAD_BUCKET).append(bucket);
      values.put(":" + HEAD_BUCKET + bucket, n(version));
    });
    String condition = "attribute_not_exists(pk)";
    if (headSeq > 0) {
      condition = "seq = :old";
      values.put(":old", n(headSeq));
    }
    return Update.builder().tableName(table).key(key(app, "HEAD")).updateExpression(update.toString())
        .conditionExpression(condition).expressionAttributeValues(values).build();
  }

  private Map<String, AttributeValue> pendingItem(String app, String txnId) {
    Map<String, AttributeValue> item = pendingItems.get(txnId);
    if (item != null) {
      return item;
    }
    Map<String, AttributeValue> read = dynamo.getItem(b -> b.tableName(table).key(key(app, pendingSk(txnId)))
        .consistentRead(true)).item();
    if (read == null || read.isEmpty()) {
      // sequenced by another invocation since it was read: this transaction would fail its condition anyway
      return Map.of("pk", s(pk(app)), "sk", s(pendingSk(txnId)), "txnId", s(txnId));
    }
    return read;
  }

  private CommitResult transact(CommitRecord commit, List<TransactWriteItem> items) {
    try {
      dynamo.transactWriteItems(b -> b.transactItems(items));
      return CommitResult.COMMITTED;
    } catch (TransactionCanceledException cancelled) {
      refuseInvalid(commit, cancelled);
      return CommitResult.CONFLICT;
    }
  }

  private static void refuseInvalid(CommitRecord commit, TransactionCanceledException cancelled) {
    if (cancelled.hasCancellationReasons() && cancelled.cancellationReasons().stream()
        .anyMatch(reason -> "ValidationError".equals(reason.code()))) {
      // not a conflict: the same write would be refused again (e.g. an item over DynamoDB's size limit)
      throw new IllegalStateException("DynamoDB refused commit " + commit.txnId() + " ("
          + commit.describeLanes() + "): " + cancelled.getMessage(), cancelled);
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

  private Put lanePut(String app, LaneRange range, AttributeValue by, String byName) {
    Map<String, AttributeValue> item = new LinkedHashMap<>(key(app, "LANE#" + range.lane()));
    item.put("position", s(range.last()));
    item.put(byName, by);
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

  private static final String PENDING = "PENDING#";
  private static final String BUCKET = "BUCKET#";
  private static final String BUCKET_VERSION = "bucketVersion";
  /** A bucket's version as of the head, an attribute of the HEAD item per bucket: {@code bv<bucket>}. */
  private static final String HEAD_BUCKET = "bv";
  /** On the HEAD item once a bucket commit was sequenced: the app commits its stateful batches on buckets. */
  private static final String BUCKET_COMMITS = "bucketCommits";

  static String bucketSk(int bucket) {
    return BUCKET + bucket;
  }

  static String pendingSk(String txnId) {
    return PENDING + txnId;
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
