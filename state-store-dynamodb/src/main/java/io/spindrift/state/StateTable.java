package io.spindrift.state;

import io.spindrift.commit.SingleTable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * The durable copy of one app's Spark state in DynamoDB (DESIGN §6), with a warm cache in front of it.
 *
 * <p>Layout, one table (default {@value #DEFAULT_TABLE}) keyed {@code pk} (S) / {@code sk} (B): a bucket's rows
 * share {@code pk = APP#<app>#OP#<operator>#STORE#<store>#P#<partition>}; a row's {@code sk} is {@code 0x01} and
 * its key bytes ({@code 0x02} and the key's SHA-256 for keys over {@value #MAX_INLINE_KEY_BYTES} bytes, the full
 * key then in {@code k}), with the value in {@code v} and the seq of the commit that wrote it in {@code seq}. A
 * row whose key and value exceed {@value #MAX_ROW_BYTES} bytes spills: its value is an immutable S3 object
 * ({@link StateSpill}, named by bucket, key hash and seq, written before the item) and the item holds the object's
 * URI in {@code ref} instead of {@code v}, written under the same seq condition as any row; reads follow it. A
 * spilled value overwritten or removed by a later commit leaves its object behind (a reader may be fetching it;
 * nothing here deletes). Such an object is garbage once its row holds a higher seq or is gone; an age-based S3
 * lifecycle rule on the prefix would also expire live values, so it suits only apps whose state retention is
 * shorter than the rule's age. A removed row stays as a tombstone (no {@code v}, its {@code seq}, expiring after
 * {@value #TOMBSTONE_HOURS} h) so that an older commit's write arriving late cannot bring it back. The bucket's
 * marker ({@code sk = 0x00}) holds {@code seq}, the last commit applied to it; operator schemas live under {@code
 * APP#<app>#SCHEMA}. {@code ttl} is the table's TTL attribute: on tombstones always, on rows only when a retention
 * is set.
 *
 * <p>{@link #apply} writes a committed delta and is idempotent per bucket: a bucket whose marker is at or past
 * the commit's seq is left alone. Every row write is conditional on the row's stored {@code seq} being older
 * than the commit's, so a write that stalls in flight (a crashed applier's) and lands after a later commit was
 * applied changes nothing: per key, state only moves forward in commit order (I5). The cache keeps every bucket
 * read, valid as of {@link #validThrough()}: applying the next commit updates it in memory, and {@link #refresh}
 * re-reads only buckets that other commits touched. Reads are one Query per bucket; writes are TransactWriteItems
 * of up to {@value #TRANSACTION_ITEMS} conditional puts (the largest batch DynamoDB allows a per-item condition
 * in; it costs twice the write units of a BatchWriteItem), issued in parallel.
 */
public final class StateTable implements AutoCloseable {
  public static final String DEFAULT_TABLE = "spindrift_state";
  /**
   * Largest key plus value a row keeps in its DynamoDB item (items hold 400 KB); larger values spill to S3. Keys
   * never spill: a key must fit in this on its own.
   */
  public static final int MAX_ROW_BYTES = 350 * 1024;
  static final int MAX_INLINE_KEY_BYTES = 1000;
  private static final int TRANSACTION_ITEMS = 100;
  /** TransactWriteItems carries at most 4 MB; keep room for the attribute names and conditions. */
  private static final long TRANSACTION_BYTES = 3_500_000;
  /** Per-item overhead counted against {@link #TRANSACTION_BYTES}: keys, names, seq, ttl and the condition. */
  private static final int ITEM_OVERHEAD_BYTES = 300;
  /**
   * How long a removed row's tombstone outlives the removal. A stale write can arrive only while some invocation
   * is still applying the older commit (minutes: Lambda stops an invocation at 15); reads skip tombstones.
   */
  static final long TOMBSTONE_HOURS = 1;
  private static final String NEWER_SEQ_WINS = "attribute_not_exists(seq) OR seq < :s";
  private static final int BATCH_GET_ITEMS = 100;
  private static final int PARALLELISM = 8;
  private static final long WRITE_RETRY_DEADLINE_MS = 60_000;
  private static final byte MARKER = 0x00;
  private static final byte INLINE_KEY = 0x01;
  private static final byte HASHED_KEY = 0x02;

  private final DynamoDbClient dynamo;
  private final String table;
  private final String app;
  private final Duration retention;
  private final StateSpill spill;
  private final ExecutorService io;
  private final Map<StateBucket, BucketState> cache = new ConcurrentHashMap<>();
  private final Map<String, StoreSchema> schemas = new ConcurrentHashMap<>();
  private final Object cacheLock = new Object();
  private long validThrough;
  private long generation;
  private final AtomicLong readRequests = new AtomicLong();
  private final AtomicLong itemsRead = new AtomicLong();
  private final AtomicLong metaReads = new AtomicLong();
  private final AtomicLong writeRequests = new AtomicLong();
  private final AtomicLong itemsWritten = new AtomicLong();

  /**
   * The state of {@code app} in {@code table}, rows kept until Spark removes them, with no spill: applying a row
   * over {@value #MAX_ROW_BYTES} bytes fails.
   */
  public StateTable(DynamoDbClient dynamo, String table, String app) {
    this(dynamo, table, app, Duration.ZERO, null);
  }

  /**
   * As above; a positive {@code retention} stamps every row written with {@code ttl} = now + retention, so
   * DynamoDB removes state no commit has written for that long (a backstop for state Spark never expires).
   */
  public StateTable(DynamoDbClient dynamo, String table, String app, Duration retention) {
    this(dynamo, table, app, retention, null);
  }

  /** As above; rows over {@value #MAX_ROW_BYTES} bytes and large staged deltas go to {@code spill} (may be null). */
  public StateTable(DynamoDbClient dynamo, String table, String app, Duration retention, StateSpill spill) {
    if (app == null || app.isBlank() || app.indexOf('#') >= 0) {
      throw new IllegalArgumentException("Invalid app name for state: '" + app + "' (SPINDRIFT_APP)");
    }
    if (retention.isNegative()) {
      throw new IllegalArgumentException("Invalid state retention: " + retention);
    }
    this.dynamo = dynamo;
    this.table = table;
    this.app = app;
    this.retention = retention;
    this.spill = spill;
    this.io = Executors.newFixedThreadPool(PARALLELISM, runnable -> {
      Thread thread = new Thread(runnable, "spindrift-state-io");
      thread.setDaemon(true);
      return thread;
    });
  }

  public String table() {
    return table;
  }

  public String app() {
    return app;
  }

  /**
   * Writes a transaction's encoded state deltas ({@link StateDeltaCodec}) to S3, for a commit record too small to
   * hold them, and returns the reference to record. Call it before committing; {@link #stagedDeltas} reads it.
   */
  public String stageDeltas(String txnId, byte[] encoded) {
    return spill("staged state deltas of " + encoded.length + " bytes").stageDeltas(txnId, encoded);
  }

  /** The deltas {@link #stageDeltas} staged at {@code ref}. */
  public List<StateDelta> stagedDeltas(String ref) {
    return spill("the staged state deltas at " + ref).stagedDeltas(ref);
  }

  /** Creates the table, with TTL on {@code ttl}, when it does not exist (the CDK app creates it in AWS). */
  public void ensureTable() {
    if (SingleTable.ensure(dynamo, table, ScalarAttributeType.B)) {
      dynamo.updateTimeToLive(b -> b.tableName(table)
          .timeToLiveSpecification(ttl -> ttl.attributeName("ttl").enabled(true)));
    }
  }

  /** The bucket's rows: from the cache when warm, otherwise read from DynamoDB (one Query) and cached. */
  public BucketState read(StateBucket bucket) {
    BucketState cached = cache.get(bucket);
    if (cached != null) {
      return cached;
    }
    long readAt = generation();
    BucketState loaded = readDurable(bucket);
    synchronized (cacheLock) {
      // an apply or refresh since the read started may have made what we read stale: then do not keep it
      if (generation == readAt) {
        BucketState raced = cache.putIfAbsent(bucket, loaded);
        return raced != null ? raced : loaded;
      }
    }
    return loaded;
  }

  /** The bucket's rows as DynamoDB holds them now (consistent read), bypassing and not filling the cache. */
  public BucketState readDurable(StateBucket bucket) {
    Map<KeyBytes, byte[]> rows = new HashMap<>();
    long applied = 0;
    Map<String, AttributeValue> start = null;
    do {
      Map<String, AttributeValue> exclusiveStart = start;
      QueryResponse page = dynamo.query(QueryRequest.builder().tableName(table).consistentRead(true)
          .keyConditionExpression("pk = :pk")
          .expressionAttributeValues(Map.of(":pk", s(bucketPk(bucket))))
          .exclusiveStartKey(exclusiveStart).build());
      readRequests.incrementAndGet();
      itemsRead.addAndGet(page.count());
      for (Map<String, AttributeValue> item : page.items()) {
        byte[] sk = item.get("sk").b().asByteArrayUnsafe();
        if (sk[0] == MARKER) {
          applied = Long.parseLong(item.get("seq").n());
        } else if (item.containsKey("v")) {
          rows.put(keyOf(sk, item), item.get("v").b().asByteArray());
        } else if (item.containsKey("ref")) {
          String ref = item.get("ref").s();
          rows.put(keyOf(sk, item), spill("the spilled state row at " + ref).read(ref));
        }
      }
      start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
    } while (start != null);
    return new BucketState(rows, applied);
  }

  /**
   * Makes the complete state delta of commit {@code seq} durable, once: buckets whose marker is already at or past
   * {@code seq} are skipped, the others get their rows written (conditional on each row's seq, in parallel) and
   * then their marker raised to {@code seq}. Safe to repeat, to interrupt anywhere and to run concurrently with
   * another invocation applying the same or a later commit. Returns how many buckets this call wrote.
   */
  public int apply(Collection<StateDelta> deltas, long seq) {
    return apply(deltas, seq, () -> {});
  }

  /** As {@link #apply(Collection, long)}; {@code beforeMarkers} runs once the rows are written, before any marker. */
  public int apply(Collection<StateDelta> deltas, long seq, Runnable beforeMarkers) {
    if (seq <= 0) {
      throw new IllegalArgumentException("Invalid commit seq: " + seq);
    }
    checkDistinctBuckets(deltas);
    List<StateDelta> changing = deltas.stream().filter(delta -> !delta.isEmpty()).toList();
    Map<StateBucket, Long> markers = markers(changing);
    List<StateDelta> pending = new ArrayList<>();
    for (StateDelta delta : changing) {
      if (markers.getOrDefault(delta.bucket(), 0L) < seq) {
        pending.add(delta);
      }
    }
    writeAll(rowWrites(pending, seq));
    if (!pending.isEmpty()) {
      beforeMarkers.run();
    }
    parallel(pending, delta -> () -> raiseMarker(delta.bucket(), seq));
    updateCache(deltas, seq);
    return pending.size();
  }

  /**
   * Moves the cache to {@code toSeq}: {@code touched} are the buckets that commits in ({@link #validThrough()},
   * {@code toSeq}] changed; the ones cached are re-read (in parallel), the rest of the cache stays. Every commit up
   * to {@code toSeq} must have been applied before. An older {@code toSeq} changes nothing.
   */
  public void refresh(long toSeq, Collection<StateBucket> touched) {
    List<StateBucket> stale = new ArrayList<>();
    long readAt;
    synchronized (cacheLock) {
      if (toSeq <= validThrough) {
        return;
      }
      for (StateBucket bucket : new LinkedHashSet<>(touched)) {
        if (cache.remove(bucket) != null) {
          stale.add(bucket);
        }
      }
      validThrough = toSeq;
      readAt = ++generation;
    }
    List<BucketState> fresh = parallel(stale, bucket -> () -> readDurable(bucket));
    synchronized (cacheLock) {
      if (generation == readAt) {
        for (int i = 0; i < stale.size(); i++) {
          cache.putIfAbsent(stale.get(i), fresh.get(i));
        }
      }
    }
  }

  /** The commit seq the cached buckets are valid as of. */
  public long validThrough() {
    synchronized (cacheLock) {
      return validThrough;
    }
  }

  /** Drops every cached bucket (e.g. after a failed commit whose outcome is unknown). */
  public void invalidate() {
    synchronized (cacheLock) {
      cache.clear();
      generation++;
    }
  }

  /** Requests made so far. */
  public StateIoCounts counts() {
    return new StateIoCounts(readRequests.get(), itemsRead.get(), metaReads.get(), writeRequests.get(),
        itemsWritten.get());
  }

  /**
   * The schema kept for {@code proposed}'s operator and store: the one recorded earlier, or {@code proposed}, which
   * is recorded now when none was. Cached, so each operator's store costs one read per container.
   */
  public StoreSchema registerSchema(StoreSchema proposed) {
    String sk = "OP#" + proposed.operatorId() + "#STORE#" + proposed.storeName();
    return schemas.computeIfAbsent(sk, key -> readSchema(key).orElseGet(() -> recordSchema(key, proposed)));
  }

  @Override
  public void close() {
    io.shutdown();
  }

  private long generation() {
    synchronized (cacheLock) {
      return generation;
    }
  }

  private void updateCache(Collection<StateDelta> deltas, long seq) {
    synchronized (cacheLock) {
      if (seq <= validThrough) {
        return;
      }
      generation++;
      if (seq == validThrough + 1) {
        deltas.forEach(delta -> cache.computeIfPresent(delta.bucket(), (bucket, state) -> state.with(delta, seq)));
        validThrough = seq;
      } else {
        // commits between validThrough and seq are unknown here: what they did to these buckets must be re-read
        deltas.forEach(delta -> cache.remove(delta.bucket()));
      }
    }
  }

  private static void checkDistinctBuckets(Collection<StateDelta> deltas) {
    Set<StateBucket> seen = new LinkedHashSet<>();
    for (StateDelta delta : deltas) {
      if (!seen.add(delta.bucket())) {
        throw new IllegalArgumentException("Two deltas for " + delta.bucket() + " in one commit");
      }
    }
  }

  private Map<StateBucket, Long> markers(Collection<StateDelta> deltas) {
    Map<String, StateBucket> byPk = new HashMap<>();
    List<Map<String, AttributeValue>> keys = new ArrayList<>();
    for (StateDelta delta : deltas) {
      String pk = bucketPk(delta.bucket());
      byPk.put(pk, delta.bucket());
      keys.add(Map.of("pk", s(pk), "sk", b(new byte[] {MARKER})));
    }
    Map<StateBucket, Long> markers = new HashMap<>();
    for (Map<String, AttributeValue> item : batchGet(keys)) {
      markers.put(byPk.get(item.get("pk").s()), Long.parseLong(item.get("seq").n()));
    }
    return markers;
  }

  private List<Map<String, AttributeValue>> batchGet(List<Map<String, AttributeValue>> keys) {
    List<Map<String, AttributeValue>> items = new ArrayList<>();
    for (int from = 0; from < keys.size(); from += BATCH_GET_ITEMS) {
      Map<String, KeysAndAttributes> pending = Map.of(table, KeysAndAttributes.builder()
          .keys(keys.subList(from, Math.min(keys.size(), from + BATCH_GET_ITEMS)))
          .projectionExpression("pk, seq").consistentRead(true).build());
      while (!pending.isEmpty()) {
        Map<String, KeysAndAttributes> request = pending;
        BatchGetItemResponse response = dynamo.batchGetItem(b -> b.requestItems(request));
        metaReads.incrementAndGet();
        items.addAll(response.responses().getOrDefault(table, List.of()));
        pending = response.unprocessedKeys();
      }
    }
    return items;
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
      AttributeValue pk = s(bucketPk(delta.bucket()));
      delta.puts().forEach((key, value) -> puts.add(Put.builder().tableName(table)
          .item(rowItem(pk, delta.bucket(), key, value, seq, ttl, spilled))
          .conditionExpression(NEWER_SEQ_WINS).expressionAttributeValues(newerSeqWins).build()));
      delta.removes().forEach(key -> puts.add(Put.builder().tableName(table)
          .item(Map.of("pk", pk, "sk", b(sortKey(key)), "seq", n(seq), "ttl", n(now + TOMBSTONE_HOURS * 3600)))
          .conditionExpression(NEWER_SEQ_WINS).expressionAttributeValues(newerSeqWins).build()));
    }
    List<Map.Entry<String, byte[]>> objects = List.copyOf(spilled.entrySet());
    parallel(objects, object -> () -> {
      spill.write(object.getKey(), object.getValue());
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
    item.put("sk", b(sortKey(key)));
    if ((long) key.length() + value.length <= MAX_ROW_BYTES) {
      item.put("v", b(value));
    } else {
      String ref = spill("a state row of " + (key.length() + value.length) + " bytes in " + bucket)
          .rowObject(bucket, key, seq);
      spilled.put(ref, value);
      item.put("ref", s(ref));
    }
    item.put("seq", n(seq));
    if (key.length() > MAX_INLINE_KEY_BYTES) {
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

  /** The spill, or a failure naming what needed it when this table was built without one. */
  private StateSpill spill(String what) {
    if (spill == null) {
      throw new IllegalStateException("Cannot keep " + what + " for app " + app + " (table " + table + "): it"
          + " needs S3 and this StateTable was built without a StateSpill");
    }
    return spill;
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
    parallel(chunks, part -> () -> {
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
        writeRequests.incrementAndGet();
        dynamo.transactWriteItems(b -> b.transactItems(
            request.stream().map(put -> TransactWriteItem.builder().put(put).build()).toList()));
        itemsWritten.addAndGet(request.size());
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
          .key(Map.of("pk", s(bucketPk(bucket)), "sk", b(new byte[] {MARKER})))
          .updateExpression("SET seq = :s")
          .conditionExpression("attribute_not_exists(seq) OR seq < :s")
          .expressionAttributeValues(Map.of(":s", n(seq))));
    } catch (ConditionalCheckFailedException alreadyFurther) {
      // another invocation applied this commit or a later one: markers only rise
    }
    return null;
  }

  private Optional<StoreSchema> readSchema(String sk) {
    Map<String, AttributeValue> item = dynamo.getItem(b -> b.tableName(table).consistentRead(true)
        .key(schemaKey(sk))).item();
    metaReads.incrementAndGet();
    if (item == null || item.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new StoreSchema(Long.parseLong(item.get("operator").n()), item.get("store").s(),
        item.get("keySchema").s(), item.get("valueSchema").s(), Integer.parseInt(item.get("prefixColumns").n())));
  }

  private StoreSchema recordSchema(String sk, StoreSchema schema) {
    Map<String, AttributeValue> item = new HashMap<>(schemaKey(sk));
    item.put("operator", n(schema.operatorId()));
    item.put("store", s(schema.storeName()));
    item.put("keySchema", s(schema.keySchemaJson()));
    item.put("valueSchema", s(schema.valueSchemaJson()));
    item.put("prefixColumns", n(schema.numColsPrefixKey()));
    try {
      dynamo.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
      return schema;
    } catch (ConditionalCheckFailedException raced) {
      return readSchema(sk).orElseThrow();
    }
  }

  private Map<String, AttributeValue> schemaKey(String sk) {
    return Map.of("pk", s("APP#" + app + "#SCHEMA"), "sk", b(sk.getBytes(StandardCharsets.UTF_8)));
  }

  private String bucketPk(StateBucket bucket) {
    return "APP#" + app + "#OP#" + bucket.operatorId() + "#STORE#" + bucket.storeName() + "#P#" + bucket.partition();
  }

  static byte[] sortKey(KeyBytes key) {
    byte[] bytes = key.bytes();
    if (bytes.length > MAX_INLINE_KEY_BYTES) {
      return prefixed(HASHED_KEY, sha256(bytes));
    }
    return prefixed(INLINE_KEY, bytes);
  }

  private static KeyBytes keyOf(byte[] sk, Map<String, AttributeValue> item) {
    if (sk[0] == HASHED_KEY) {
      return KeyBytes.wrap(item.get("k").b().asByteArray());
    }
    byte[] key = new byte[sk.length - 1];
    System.arraycopy(sk, 1, key, 0, key.length);
    return KeyBytes.wrap(key);
  }

  private static byte[] prefixed(byte tag, byte[] bytes) {
    byte[] out = new byte[bytes.length + 1];
    out[0] = tag;
    System.arraycopy(bytes, 0, out, 1, bytes.length);
    return out;
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Runs one task per item on the I/O pool and returns their results in order; the first failure is thrown. */
  private <T, R> List<R> parallel(List<T> items, Function<T, Supplier<R>> task) {
    List<R> results = new ArrayList<>();
    if (items.size() == 1) {
      results.add(task.apply(items.get(0)).get());
      return results;
    }
    List<CompletableFuture<R>> futures = new ArrayList<>();
    items.forEach(item -> futures.add(CompletableFuture.supplyAsync(task.apply(item), io)));
    try {
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException runtime ? runtime : e;
    }
    futures.forEach(future -> results.add(future.join()));
    return results;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while retrying state writes", e);
    }
  }

  private static AttributeValue s(String value) {
    return AttributeValue.builder().s(value).build();
  }

  private static AttributeValue n(long value) {
    return AttributeValue.builder().n(Long.toString(value)).build();
  }

  private static AttributeValue b(byte[] value) {
    return AttributeValue.builder().b(SdkBytes.fromByteArrayUnsafe(value)).build();
  }
}
