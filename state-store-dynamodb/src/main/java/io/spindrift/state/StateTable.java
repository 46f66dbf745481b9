package io.spindrift.state;

import io.spindrift.commit.SingleTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * The durable copy of one app's Spark state in DynamoDB (DESIGN §6), with a warm cache in front of it.
 *
 * <p>Layout, one table (default {@value #DEFAULT_TABLE}) keyed {@code pk} (S) / {@code sk} (B): a bucket's rows
 * share {@code pk = APP#<app>#OP#<operator>#STORE#<store>#P#<partition>}; a row's {@code sk} is {@code 0x01} and
 * its key bytes ({@code 0x02} and the key's SHA-256 for keys over {@value StateItems#MAX_INLINE_KEY_BYTES} bytes, the full
 * key then in {@code k}), with the value in {@code v} and the seq of the commit that wrote it in {@code seq}. A
 * row whose key and value exceed {@value #MAX_ROW_BYTES} bytes spills: its value is an immutable S3 object
 * ({@link StateSpill}, named by bucket, key hash and seq, written before the item) and the item holds the object's
 * URI in {@code ref} instead of {@code v}, written under the same seq condition as any row; reads follow it. A
 * spilled value overwritten or removed by a later commit leaves its object behind (a reader may be fetching it;
 * nothing here deletes). Such an object is garbage once its row holds a higher seq or is gone; an age-based S3
 * lifecycle rule on the prefix would also expire live values, so it suits only apps whose state retention is
 * shorter than the rule's age. A removed row stays as a tombstone (no {@code v}, its {@code seq}, expiring after
 * {@value StateWrites#TOMBSTONE_HOURS} h) so that an older commit's write arriving late cannot bring it back. The bucket's
 * marker ({@code sk = 0x00}) holds {@code seq}, the last commit applied to it; operator schemas live under {@code
 * APP#<app>#SCHEMA}. {@code ttl} is the table's TTL attribute: on tombstones always, on rows only when a retention
 * is set.
 *
 * <p>{@link #apply} writes a committed delta and is idempotent per bucket: a bucket whose marker is at or past
 * the commit's seq is left alone. Every row write is conditional on the row's stored {@code seq} being older
 * than the commit's, so a write that stalls in flight (a crashed applier's) and lands after a later commit was
 * applied changes nothing, and every transaction also checks the bucket's marker (a marker at or past the write's
 * seq refuses it, so a stalled write cannot resurrect a removed key after its tombstone expired): per key, state only moves forward in commit order (I5). The cache keeps every bucket
 * read, valid as of {@link #validThrough()}: applying the next commit updates it in memory, and {@link #refresh}
 * re-reads only buckets that other commits touched. Reads are one Query per bucket; writes are TransactWriteItems
 * of up to 100 conditional puts (the largest batch DynamoDB allows a per-item condition
 * in; it costs twice the write units of a BatchWriteItem), issued in parallel.
 *
 * <p>This class wires the concerns together; each lives in its own package-private class: the item layout
 * ({@link StateItems}), consistent reads ({@link StateReads}), conditional writes ({@link StateWrites}), the warm
 * cache ({@link StateCache}), store schemas ({@link StateSchemas}) and the I/O pool and counters ({@link StateIo}).
 */
public final class StateTable implements DurableState, AutoCloseable {
  public static final String DEFAULT_TABLE = "spindrift_state";
  /** Largest key plus value a row keeps in its DynamoDB item; larger values spill to S3 (keys never do). */
  public static final int MAX_ROW_BYTES = StateWrites.MAX_ROW_BYTES;

  private final DynamoDbClient dynamo;
  private final String table;
  private final String app;
  private final StateSpill spill;
  private final StateIo io = new StateIo();
  private final StateCache cache = new StateCache();
  private final StateReads reads;
  private final StateWrites writes;
  private final StateSchemas schemas;

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
    this.spill = spill;
    StateItems items = new StateItems(app);
    this.reads = new StateReads(dynamo, table, items, this::spill, io);
    this.writes = new StateWrites(dynamo, table, items, retention, this::spill, io);
    this.schemas = new StateSchemas(dynamo, table, items, io);
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
  @Override
  public String stageDeltas(String txnId, byte[] encoded) {
    return spill("staged state deltas of " + encoded.length + " bytes").stageDeltas(txnId, encoded);
  }

  /** The deltas {@link #stageDeltas} staged at {@code ref}. */
  @Override
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
  BucketState read(StateBucket bucket) {
    return cache.read(bucket, reads::bucket);
  }

  /** The bucket's rows as DynamoDB holds them now (consistent read), bypassing and not filling the cache. */
  BucketState readDurable(StateBucket bucket) {
    return reads.bucket(bucket);
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
  @Override
  public int apply(Collection<StateDelta> deltas, long seq, Runnable beforeMarkers) {
    if (seq <= 0) {
      throw new IllegalArgumentException("Invalid commit seq: " + seq);
    }
    checkDistinctBuckets(deltas);
    List<StateDelta> changing = deltas.stream().filter(delta -> !delta.isEmpty()).toList();
    Map<StateBucket, Long> markers = reads.markers(changing);
    List<StateDelta> pending = new ArrayList<>();
    for (StateDelta delta : changing) {
      if (markers.getOrDefault(delta.bucket(), 0L) < seq) {
        pending.add(delta);
      }
    }
    writes.writeRows(pending, seq);
    if (!pending.isEmpty()) {
      beforeMarkers.run();
    }
    writes.raiseMarkers(pending, seq);
    cache.applied(deltas, seq);
    return pending.size();
  }

  /**
   * Moves the cache to {@code toSeq}: {@code touched} are the buckets that commits in ({@link #validThrough()},
   * {@code toSeq}] changed; the ones cached are re-read (in parallel), the rest of the cache stays. Every commit up
   * to {@code toSeq} must have been applied before. An older {@code toSeq} changes nothing.
   */
  @Override
  public void refresh(long toSeq, Collection<StateBucket> touched) {
    cache.refresh(toSeq, touched, stale -> io.parallel(stale, bucket -> () -> reads.bucket(bucket)));
  }

  /** The commit seq the cached buckets are valid as of. */
  @Override
  public long validThrough() {
    return cache.validThrough();
  }

  /** Drops every cached bucket (e.g. after a failed commit whose outcome is unknown). */
  @Override
  public void invalidate() {
    cache.invalidate();
  }

  /** Requests made so far. */
  @Override
  public StateIoCounts counts() {
    return io.counts();
  }

  /**
   * The schema kept for {@code proposed}'s operator and store: the one recorded earlier, or {@code proposed}, which
   * is recorded now when none was. Cached, so each operator's store costs one read per container.
   */
  StoreSchema registerSchema(StoreSchema proposed) {
    return schemas.register(proposed);
  }

  @Override
  public void close() {
    io.close();
  }

  /**
   * Writes the rows of {@code deltas} as commit {@code seq} without first reading the markers: what an applier
   * that read them, stalled (a frozen container) and thawed later does. For the fencing test only.
   */
  void writeRowsAsIfStalled(Collection<StateDelta> deltas, long seq) {
    writes.writeRows(List.copyOf(deltas), seq);
  }

  /** Refuses a key DynamoDB cannot hold in one item (values spill to S3, keys do not), naming where it came from. */
  static void checkKeySize(StateBucket bucket, int keyBytes) {
    StateWrites.checkKeySize(bucket, keyBytes);
  }

  static byte[] sortKey(KeyBytes key) {
    return StateItems.sortKey(key);
  }

  static byte[] sha256(byte[] bytes) {
    return StateItems.sha256(bytes);
  }

  private static void checkDistinctBuckets(Collection<StateDelta> deltas) {
    Set<StateBucket> seen = new LinkedHashSet<>();
    for (StateDelta delta : deltas) {
      if (!seen.add(delta.bucket())) {
        throw new IllegalArgumentException("Two deltas for " + delta.bucket() + " in one commit");
      }
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
}
