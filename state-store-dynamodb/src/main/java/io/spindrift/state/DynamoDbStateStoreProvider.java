package io.spindrift.state;

import java.util.Arrays;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.execution.streaming.state.StateStore;
import org.apache.spark.sql.execution.streaming.state.StateStoreConf;
import org.apache.spark.sql.execution.streaming.state.StateStoreId;
import org.apache.spark.sql.execution.streaming.state.StateStoreProvider;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructType;

/**
 * Spark 3.5's state store provider for Spindrift: the durable copy of state is a {@link StateTable} in DynamoDB,
 * and Spark's own versions and checkpoint files are not used. Select it for a query with {@link #sparkConf}; the
 * run it names must be open in {@link StateDeltas}.
 *
 * <p>{@code getStore(version)} ignores {@code version} and serves the latest committed state as the table's
 * warm cache holds it (the durable version is the commit seq, which Spark does not know). Writes are buffered;
 * {@code commit()} makes nothing durable but hands the store's delta to {@link StateDeltas}, from where the
 * runtime makes it part of its own commit. At init the store's key and value schemas are checked against the
 * ones kept with the durable state, since a fresh checkpoint loses Spark's own check.
 */
public final class DynamoDbStateStoreProvider implements StateStoreProvider {
  /** The SQL conf naming the {@link StateDeltas} run a query's stores belong to. */
  public static final String RUN_CONF = "spark.sql.streaming.stateStore.spindrift.run";
  private static final String PROVIDER_CONF = "spark.sql.streaming.stateStore.providerClass";

  private StateStoreId id;
  private StateBucket bucket;
  private String runId;
  private StateTable table;
  private int keyFields;
  private int valueFields;
  private StructType prefixSchema;
  private BucketState loaded;
  private long loadedVersion = -1;

  /** The session confs that make a query's stateful operators use this provider, bound to run {@code runId}. */
  public static Map<String, String> sparkConf(String runId) {
    return Map.of(PROVIDER_CONF, DynamoDbStateStoreProvider.class.getName(), RUN_CONF, runId);
  }

  @Override
  public void init(StateStoreId stateStoreId, StructType keySchema, StructType valueSchema, int numColsPrefixKey,
      StateStoreConf storeConf, Configuration hadoopConf) {
    this.id = stateStoreId;
    this.bucket = new StateBucket(stateStoreId.operatorId(), stateStoreId.storeName(), stateStoreId.partitionId());
    this.runId = runId(storeConf, hadoopConf);
    this.table = StateDeltas.table(runId);
    this.keyFields = keySchema.length();
    this.valueFields = valueSchema.length();
    this.prefixSchema = numColsPrefixKey > 0 ? new StructType(Arrays.copyOf(keySchema.fields(),
        numColsPrefixKey)) : null;
    checkSchema(new StoreSchema(bucket.operatorId(), bucket.storeName(), keySchema.json(), valueSchema.json(),
        numColsPrefixKey));
  }

  private static String runId(StateStoreConf storeConf, Configuration hadoopConf) {
    scala.Option<String> fromSql = storeConf.sqlConfs().get(RUN_CONF);
    String run = fromSql.isDefined() ? fromSql.get() : hadoopConf.get(RUN_CONF);
    if (run == null || run.isBlank()) {
      throw new IllegalStateException(DynamoDbStateStoreProvider.class.getName() + " needs " + RUN_CONF
          + ": start the query through the Spindrift runtime (DynamoDbStateStoreProvider.sparkConf)");
    }
    return run;
  }

  /** Refuses a store whose row layout differs from the one its durable state was written with. */
  private void checkSchema(StoreSchema proposed) {
    StoreSchema kept = table.registerSchema(proposed);
    boolean same = sameShape(DataType.fromJson(kept.keySchemaJson()), DataType.fromJson(proposed.keySchemaJson()))
        && sameShape(DataType.fromJson(kept.valueSchemaJson()), DataType.fromJson(proposed.valueSchemaJson()))
        && kept.numColsPrefixKey() == proposed.numColsPrefixKey();
    if (!same) {
      throw new IllegalStateException("The state schema of operator " + bucket.operatorId() + " (store "
          + bucket.storeName() + ") of app '" + table.app() + "' changed: its state was written with key "
          + DataType.fromJson(kept.keySchemaJson()).simpleString() + " and value "
          + DataType.fromJson(kept.valueSchemaJson()).simpleString() + ", the job now has key "
          + DataType.fromJson(proposed.keySchemaJson()).simpleString() + " and value "
          + DataType.fromJson(proposed.valueSchemaJson()).simpleString() + ". A job's stateful operators must not"
          + " change for an app: deploy the changed job under a new SPINDRIFT_APP, or delete the app's state.");
    }
  }

  /** Same types field by field, ignoring names and nullability (what Spark's own check tolerates, roughly). */
  static boolean sameShape(DataType a, DataType b) {
    if (a instanceof StructType sa && b instanceof StructType sb) {
      if (sa.length() != sb.length()) {
        return false;
      }
      for (int i = 0; i < sa.length(); i++) {
        if (!sameShape(sa.fields()[i].dataType(), sb.fields()[i].dataType())) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof ArrayType aa && b instanceof ArrayType ab) {
      return sameShape(aa.elementType(), ab.elementType());
    }
    if (a instanceof MapType ma && b instanceof MapType mb) {
      return sameShape(ma.keyType(), mb.keyType()) && sameShape(ma.valueType(), mb.valueType());
    }
    return a.equals(b);
  }

  @Override
  public StateStoreId stateStoreId() {
    return id;
  }

  /**
   * A store over the latest committed state; {@code version} only numbers Spark's batches. Opening the same
   * version again (Spark opens a partition read-only, then for writing, in one task) reuses the same snapshot.
   */
  @Override
  public synchronized StateStore getStore(long version) {
    if (!StateDeltas.owns(runId, bucket.partition())) {
      // a fan-out reduce child's store of a partition another child owns: empty, and what it is given is dropped
      return new DynamoDbStateStore(id, bucket, version, BucketState.EMPTY, keyFields, valueFields, prefixSchema,
          new DynamoDbStateStore.Listener() {
            @Override
            public void read() {}

            @Override
            public void committed(StateDelta delta) {}
          });
    }
    if (loaded == null || loadedVersion != version) {
      loaded = table.read(bucket);
      loadedVersion = version;
    }
    return new DynamoDbStateStore(id, bucket, version, loaded, keyFields, valueFields, prefixSchema,
        new DynamoDbStateStore.Listener() {
          @Override
          public void read() {
            StateDeltas.recordRead(runId, bucket);
          }

          @Override
          public void committed(StateDelta delta) {
            StateDeltas.collect(runId, version, delta);
          }
        });
  }

  @Override
  public void close() {
    loaded = null;
  }

  @Override
  public String toString() {
    return "DynamoDbStateStoreProvider[" + bucket + ", run " + runId + "]";
  }
}
