package io.spindrift.state;

import static io.spindrift.state.StateItems.b;
import static io.spindrift.state.StateItems.n;
import static io.spindrift.state.StateItems.s;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
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
   * How long a removed row's tombstone outlives the removal. A stale write can arrive only while some invocation
   * is still applying the older commit (minutes: Lambda stops an invocation at 15); reads skip tombstones.
   */
  static final long TOMBSTONE_HOURS = 1;
  private static final int TRANSACTION_ITEMS = 100;
  /** TransactWriteItems carries at most 4 MB; keep room for the attribute names and conditions. */
  private static final long TRANSACTION_BYTES = 3_500_000;
  /** Per-item overhead counted against {@link #TRANSACTION_BYTES}: keys, names, seq, ttl and the condition. */
  private static final int ITEM_OVERHEAD_BYTES = 300;
  private static final String NEWER_SEQ_WINS = "attribute_not_exists(seq) OR seq < :s";
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
    writeAll(rowWrites(deltas, seq));
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

  /** Writes in transactions of at most {@value #TRANSACTION_ITEMS} items and {@link #TRANSACTION_BYTES}, in parallel. */
  private void writeAll(List<Put> puts) {
    List<List<Put>> chunks = new ArrayList<>();
    List<Put> chunk = new ArrayList<>();
    long bytes = 0;
    for (Put put : puts) {
      long size = itemBytes(put.item());
      if (!chunk.isEmpty() && (chunk.size() == TRANSACTION_ITEMS || bytes + size > TRANSACTION_BYTES)) {
        chunks.add(chunk);
        chunk = new ArrayList<>();
        bytes = 0;
      }
      chunk.add(put);
      bytes += size;
    }
    if (!chunk.isEmpty()) {
      chunks.add(chunk);
    }
    io.parallel(chunks, part -> () -> {
      writeTransaction(part);
      return null;
    });
  }

  /**
   * Writes the puts in one transaction. A put whose condition fails is dropped (its row already holds this commit
   * or a later one); DynamoDB then cancels the whole transaction, so the rest is written again. Conflicts with
   * another transaction on the same rows (another invocation applying this commit) and throttling are retried.
   */
  private void writeTransaction(List<Put> chunk) {
    long deadline = System.currentTimeMillis() + WRITE_RETRY_DEADLINE_MS;
    List<Put> pending = chunk;
    for (int attempt = 0; !pending.isEmpty(); attempt++) {
      if (attempt > 0 && System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("DynamoDB kept cancelling " + pending.size() + " state writes to table "
            + table + " for " + WRITE_RETRY_DEADLINE_MS / 1000 + " s (throttling or conflicts); the commit is durable"
            + " and the next invocation applies it again");
      }
      List<Put> request = pending;
      try {
        io.writeRequests.incrementAndGet();
        dynamo.transactWriteItems(b -> b.transactItems(
            request.stream().map(put -> TransactWriteItem.builder().put(put).build()).toList()));
        io.itemsWritten.addAndGet(request.size());
        return;
      } catch (TransactionCanceledException cancelled) {
        pending = retryable(request, cancelled);
        if (pending.size() == request.size()) {
          sleep(Math.min(1_000, 10L << Math.min(attempt, 7)));
        }
      }
    }
  }

  /** The puts of a cancelled transaction to write again: all but those whose row is already as new or newer. */
  private List<Put> retryable(List<Put> request, TransactionCanceledException cancelled) {
    List<CancellationReason> reasons = cancelled.cancellationReasons();
    if (reasons == null || reasons.size() != request.size()) {
      throw new IllegalStateException("DynamoDB cancelled a state write to table " + table + " without a reason"
          + " per item: " + cancelled.getMessage(), cancelled);
    }
    List<Put> retry = new ArrayList<>();
    for (int i = 0; i < reasons.size(); i++) {
      String code = reasons.get(i).code();
      if ("ConditionalCheckFailed".equals(code)) {
        continue;
      }
      if (code != null && !List.of("None", "TransactionConflict", "ThrottlingError",
          "ProvisionedThroughputExceeded").contains(code)) {
        throw new IllegalStateException("DynamoDB refused a state write to table " + table + ": " + code + " "
            + reasons.get(i).message(), cancelled);
      }
      retry.add(request.get(i));
    }
    return retry;
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
