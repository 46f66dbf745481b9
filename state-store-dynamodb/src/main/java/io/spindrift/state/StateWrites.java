package io.spindrift.state;

import static io.spindrift.state.StateItems.b;
import static io.spindrift.state.StateItems.n;
import static io.spindrift.state.StateItems.s;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * How a committed state delta is written: one conditional put per changed row (a tombstone for a removed one),
 * conditional on the row's stored seq being older than the commit's, in TransactWriteItems of up to {@value
 * #TRANSACTION_ITEMS} puts issued in parallel; values too large for an item are written to S3 first; then each
 * bucket's marker is raised. A put whose condition fails is dropped (the row already holds this commit or a later
 * one), so a repeated or stalled write never moves a key backwards (I5).
 */
final class StateWrites {
  /**
   * Largest key plus value a row keeps in its DynamoDB item (items hold 400 KB); larger values spill to S3. Keys
   * never spill: a key must fit in this on its own.
   */
  static final int MAX_ROW_BYTES = 350 * 1024;
  /**
   * How long a removed row's tombstone outlives the removal (reads skip tombstones). The tombstone is not what
   * keeps a stalled write of an older commit out: the bucket marker's fence in {@link #writeTransaction} is, however
   * late the write arrives.
   */
  static final long TOMBSTONE_HOURS = 1;
  private static final int TRANSACTION_ITEMS = 100;
  /** TransactWriteItems carries at most 4 MB; keep room for the attribute names and conditions. */
  private static final long TRANSACTION_BYTES = 3_500_000;
  /** Per-item overhead counted against {@link #TRANSACTION_BYTES}: keys, names, seq, ttl and the condition. */
  private static final int ITEM_OVERHEAD_BYTES = 300;
  private static final String NEWER_SEQ_WINS = "attribute_not_exists(seq) OR seq < :s";
  /** The fence: the bucket has not yet been fully applied at this seq (markers rise only after every row). */
  private static final String MARKER_BEHIND = "attribute_not_exists(seq) OR seq < :s";
  private static final long WRITE_RETRY_DEADLINE_MS = 60_000;

  private final DynamoDbClient dynamo;
  private final String table;
  private final StateItems items;
  private final Duration retention;
  private final Function<String, StateSpill> spill;
  private final StateIo io;

  /** @param spill the spill for a value too large for an item, or a failure naming what needed it */
  StateWrites(DynamoDbClient dynamo, String table, StateItems items, Duration retention,
      Function<String, StateSpill> spill, StateIo io) {
    this.dynamo = dynamo;
    this.table = table;
    this.items = items;
    this.retention = retention;
    this.spill = spill;
    this.io = io;
  }

  /** Writes the rows of {@code deltas} as commit {@code seq} (not the markers). */
  void writeRows(List<StateDelta> deltas, long seq) {
    writeAll(rowWrites(deltas, seq), seq);
  }

  /** Raises each bucket's marker to {@code seq}; a marker already there or further stays. */
  void raiseMarkers(List<StateDelta> deltas, long seq) {
    io.parallel(deltas, delta -> () -> raiseMarker(delta.bucket(), seq));
  }

  /**
   * One conditional put per changed key: the new row, or a tombstone for a removed one. Values too large for an
   * item are written to S3 here, before any put that points at them is made.
   */
  private List<Put> rowWrites(List<StateDelta> deltas, long seq) {
    List<Put> puts = new ArrayList<>();
    Map<String, byte[]> spilled = new LinkedHashMap<>();
    long now = System.currentTimeMillis() / 1000;
    Long ttl = retention.isZero() ? null : now + retention.toSeconds();
    Map<String, AttributeValue> newerSeqWins = Map.of(":s", n(seq));
    for (StateDelta delta : deltas) {
      AttributeValue pk = s(items.bucketPk(delta.bucket()));
      delta.puts().forEach((key, value) -> puts.add(Put.builder().tableName(table)
          .item(rowItem(pk, delta.bucket(), key, value, seq, ttl, spilled))
          .conditionExpression(NEWER_SEQ_WINS).expressionAttributeValues(newerSeqWins).build()));
      delta.removes().forEach(key -> puts.add(Put.builder().tableName(table)
          .item(Map.of("pk", pk, "sk", b(StateItems.sortKey(key)), "seq", n(seq), "ttl", n(now + TOMBSTONE_HOURS * 3600)))
          .conditionExpression(NEWER_SEQ_WINS).expressionAttributeValues(newerSeqWins).build()));
    }
    List<Map.Entry<String, byte[]>> objects = List.copyOf(spilled.entrySet());
    io.parallel(objects, object -> () -> {
      spill.apply("a state row").write(object.getKey(), object.getValue());
      return null;
    });
    return puts;
  }

  /** The item of a put row; a value too large for it is added to {@code spilled} (by URI) and referenced. */
  private Map<String, AttributeValue> rowItem(AttributeValue pk, StateBucket bucket, KeyBytes key, byte[] value,
      long seq, Long ttl, Map<String, byte[]> spilled) {
    checkKeySize(bucket, key.length());
    Map<String, AttributeValue> item = new HashMap<>();
    item.put("pk", pk);
    item.put("sk", b(StateItems.sortKey(key)));
    if ((long) key.length() + value.length <= MAX_ROW_BYTES) {
      item.put("v", b(value));
    } else {
      String ref = spill.apply("a state row of " + (key.length() + value.length) + " bytes in " + bucket)
          .rowObject(bucket, key, seq);
      spilled.put(ref, value);
      item.put("ref", s(ref));
    }
    item.put("seq", n(seq));
    if (key.length() > StateItems.MAX_INLINE_KEY_BYTES) {
      item.put("k", b(key.bytes()));
    }
    if (ttl != null) {
      item.put("ttl", n(ttl));
    }
    return item;
  }

  /** Refuses a key DynamoDB cannot hold in one item (values spill to S3, keys do not), naming where it came from. */
  static void checkKeySize(StateBucket bucket, int keyBytes) {
    if (keyBytes > MAX_ROW_BYTES) {
      throw new IllegalArgumentException("A state key of " + keyBytes + " bytes in " + bucket + " exceeds "
          + MAX_ROW_BYTES + " bytes, the most one DynamoDB item holds here (large values spill to S3, keys do not)."
          + " Group by fewer or shorter columns.");
    }
  }

  /**
   * Writes in transactions of at most {@value #TRANSACTION_ITEMS} items and {@link #TRANSACTION_BYTES}, in parallel.
   * Each transaction also checks the marker of every bucket it writes (a fence: see {@link #writeTransaction}).
   */
  private void writeAll(List<Put> puts, long seq) {
    List<List<Put>> chunks = new ArrayList<>();
    List<Put> chunk = new ArrayList<>();
    Set<String> buckets = new HashSet<>();
    long bytes = 0;
    for (Put put : puts) {
      long size = itemBytes(put.item());
      String pk = put.item().get("pk").s();
      int items = chunk.size() + buckets.size() + (buckets.contains(pk) ? 0 : 1);
      if (!chunk.isEmpty() && (items >= TRANSACTION_ITEMS || bytes + size > TRANSACTION_BYTES)) {
        chunks.add(chunk);
        chunk = new ArrayList<>();
        buckets = new HashSet<>();
        bytes = 0;
      }
      chunk.add(put);
      buckets.add(pk);
      bytes += size;
    }
    if (!chunk.isEmpty()) {
      chunks.add(chunk);
    }
    io.parallel(chunks, part -> () -> {
      writeTransaction(part, seq);
      return null;
    });
  }

  /**
   * Writes the puts in one transaction, with a condition check on the marker of each bucket they write: a marker at
   * or past {@code seq} means the commit was applied to that bucket in full, and a write arriving now is a stalled
   * one (a frozen container's) that must not land, even where the row's own condition would let it (a removed
   * row whose tombstone has expired). A put or check whose condition fails is dropped with its bucket's other puts
   * (marker) or alone (row already as new); DynamoDB then cancels the whole transaction, so the rest is written
   * again. Conflicts with another transaction on the same rows and throttling are retried.
   */
  private void writeTransaction(List<Put> chunk, long seq) {
    long deadline = System.currentTimeMillis() + WRITE_RETRY_DEADLINE_MS;
    List<Put> pending = chunk;
    for (int attempt = 0; !pending.isEmpty(); attempt++) {
      if (attempt > 0 && System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("DynamoDB kept cancelling " + pending.size() + " state writes to table "
            + table + " for " + WRITE_RETRY_DEADLINE_MS / 1000 + " s (throttling or conflicts); the commit is durable"
            + " and the next invocation applies it again");
      }
      List<Put> request = pending;
      List<String> fenced = request.stream().map(put -> put.item().get("pk").s()).distinct().toList();
      List<TransactWriteItem> items = new ArrayList<>();
      request.forEach(put -> items.add(TransactWriteItem.builder().put(put).build()));
      fenced.forEach(pk -> items.add(TransactWriteItem.builder().conditionCheck(ConditionCheck.builder()
          .tableName(table).key(Map.of("pk", s(pk), "sk", b(new byte[] {StateItems.MARKER})))
          .conditionExpression(MARKER_BEHIND).expressionAttributeValues(Map.of(":s", n(seq))).build()).build()));
      try {
        io.writeRequests.incrementAndGet();
        dynamo.transactWriteItems(b -> b.transactItems(items));
        io.itemsWritten.addAndGet(request.size());
        return;
      } catch (TransactionCanceledException cancelled) {
        pending = retryable(request, fenced, cancelled);
        if (pending.size() == request.size()) {
          sleep(Math.min(1_000, 10L << Math.min(attempt, 7)));
        }
      }
    }
  }

  /**
   * The puts of a cancelled transaction to write again: all but those whose row is already as new or newer, and
   * those of a bucket whose marker says the commit was applied there already.
   */
  private List<Put> retryable(List<Put> request, List<String> fenced, TransactionCanceledException cancelled) {
    List<CancellationReason> reasons = cancelled.cancellationReasons();
    if (reasons == null || reasons.size() != request.size() + fenced.size()) {
      throw new IllegalStateException("DynamoDB cancelled a state write to table " + table + " without a reason"
          + " per item: " + cancelled.getMessage(), cancelled);
    }
    Set<String> applied = new HashSet<>();
    for (int i = 0; i < fenced.size(); i++) {
      CancellationReason reason = reasons.get(request.size() + i);
      if ("ConditionalCheckFailed".equals(reason.code())) {
        applied.add(fenced.get(i));
      } else {
        checkRetryable(reason, cancelled);
      }
    }
    List<Put> retry = new ArrayList<>();
    for (int i = 0; i < request.size(); i++) {
      CancellationReason reason = reasons.get(i);
      if ("ConditionalCheckFailed".equals(reason.code()) || applied.contains(request.get(i).item().get("pk").s())) {
        continue;
      }
      checkRetryable(reason, cancelled);
      retry.add(request.get(i));
    }
    return retry;
  }

  private void checkRetryable(CancellationReason reason, TransactionCanceledException cancelled) {
    String code = reason.code();
    if (code != null && !List.of("None", "TransactionConflict", "ThrottlingError",
        "ProvisionedThroughputExceeded").contains(code)) {
      throw new IllegalStateException("DynamoDB refused a state write to table " + table + ": " + code + " "
          + reason.message(), cancelled);
    }
  }

  private static long itemBytes(Map<String, AttributeValue> item) {
    long bytes = ITEM_OVERHEAD_BYTES;
    for (AttributeValue value : item.values()) {
      bytes += value.b() != null ? value.b().asByteArrayUnsafe().length : value.s() != null ? value.s().length() : 20;
    }
    return bytes;
  }

  private Void raiseMarker(StateBucket bucket, long seq) {
    try {
      dynamo.updateItem(b -> b.tableName(table)
          .key(items.markerKey(bucket))
          .updateExpression("SET seq = :s")
          .conditionExpression("attribute_not_exists(seq) OR seq < :s")
          .expressionAttributeValues(Map.of(":s", n(seq))));
    } catch (ConditionalCheckFailedException alreadyFurther) {
      // another invocation applied this commit or a later one: markers only rise
    }
    return null;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while retrying state writes", e);
    }
  }
}
