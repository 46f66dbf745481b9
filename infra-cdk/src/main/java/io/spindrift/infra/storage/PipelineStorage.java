package io.spindrift.infra.storage;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfig.CatalogType;
import io.spindrift.infra.config.PipelineConfig.SinkFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.dynamodb.Attribute;
import software.amazon.awscdk.services.dynamodb.AttributeType;
import software.amazon.awscdk.services.dynamodb.BillingMode;
import software.amazon.awscdk.services.dynamodb.GlobalSecondaryIndexProps;
import software.amazon.awscdk.services.dynamodb.PointInTimeRecoverySpecification;
import software.amazon.awscdk.services.dynamodb.ProjectionType;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.dynamodb.TableEncryption;
import software.amazon.awscdk.services.dynamodb.TableProps;
import software.amazon.awscdk.services.s3.BlockPublicAccess;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.BucketEncryption;
import software.amazon.awscdk.services.s3.LifecycleRule;
import software.amazon.awscdk.services.s3.ObjectOwnership;
import software.constructs.Construct;

/**
 * The durable things one app owns: the S3 bucket (a temporary {@code <app>/shuffle/} prefix that
 * expires; {@code <app>/stage/}, which holds what unpublished commits reference and is collected by the
 * maintenance run, never blindly; a {@code warehouse/} prefix that never expires), the
 * single-table commit log, the state-store table, and the catalog, log-store, lock or lease tables the
 * sink format needs. The state table is created for every app, since whether a job keeps state is
 * only known when the runtime plans it; sink tables only for the configured format. Every table
 * exists before the functions run, so no function needs {@code dynamodb:CreateTable}. Everything
 * holding data is retained when the stack is destroyed; exactly-once depends on it.
 */
public final class PipelineStorage extends Construct {
  /** The TTL attribute of the commit-log table (the state store's backstop, DESIGN §6). */
  public static final String COMMIT_TTL_ATTRIBUTE = "ttl";
  /** The TTL attribute of the state table: on tombstones always, on rows when a retention is set. */
  public static final String STATE_TTL_ATTRIBUTE = "ttl";

  private final PipelineConfig config;
  private final Bucket bucket;
  private final Table commitTable;
  private final Table stateTable;
  private final Optional<Table> catalogTable;
  private final Optional<Table> deltaLogTable;
  private final Optional<Table> hudiLockTable;
  private final Optional<Table> hudiLeaseTable;

  public PipelineStorage(Construct scope, String id, PipelineConfig config) {
    super(scope, id);
    this.config = config;
    this.bucket = createBucket();
    this.commitTable = table("CommitLog", key("pk"), Optional.of(key("sk")), Optional.of(COMMIT_TTL_ATTRIBUTE));
    // StateTable's layout: string pk, binary sk (key bytes sort in order within a bucket)
    this.stateTable = table("StateStore", key("pk"), Optional.of(binaryKey("sk")), Optional.of(STATE_TTL_ATTRIBUTE));
    this.catalogTable = usesIcebergDynamoDbCatalog(config) ? Optional.of(icebergCatalogTable()) : Optional.empty();
    this.deltaLogTable = config.sink().format() == SinkFormat.DELTA
        ? Optional.of(table("DeltaLogStore", key("tablePath"), Optional.of(key("fileName")), Optional.of("expireTime")))
        : Optional.empty();
    this.hudiLockTable = config.sink().format() == SinkFormat.HUDI
        ? Optional.of(table("HudiLocks", key("key"), Optional.empty(), Optional.empty()))
        : Optional.empty();
    // the lease's expiry is in milliseconds and checked by the sink, so the table has no TTL
    this.hudiLeaseTable = config.sink().format() == SinkFormat.HUDI
        ? Optional.of(table("HudiPublishLease", key("lease"), Optional.empty(), Optional.empty()))
        : Optional.empty();
  }

  static boolean usesIcebergDynamoDbCatalog(PipelineConfig config) {
    return config.sink().format() == SinkFormat.ICEBERG && config.sink().catalog() == CatalogType.DYNAMODB;
  }

  public Bucket bucket() {
    return bucket;
  }

  public Table commitTable() {
    return commitTable;
  }

  /** The state store's table ({@code StateTable}); written only by the committing handler. */
  public Table stateTable() {
    return stateTable;
  }

  /** The Iceberg {@code DynamoDbCatalog} table, when the sink is Iceberg with the DynamoDB catalog. */
  public Optional<Table> catalogTable() {
    return catalogTable;
  }

  /** The {@code S3DynamoDBLogStore} table, when the sink is Delta. */
  public Optional<Table> deltaLogTable() {
    return deltaLogTable;
  }

  /** The {@code DynamoDBBasedLockProvider} table, when the sink is Hudi. */
  public Optional<Table> hudiLockTable() {
    return hudiLockTable;
  }

  /** The Hudi sink's publish-lease table ({@code PublishLease}), when the sink is Hudi. */
  public Optional<Table> hudiLeaseTable() {
    return hudiLeaseTable;
  }

  /** Tables the committing handler writes besides the commit log and the state table. */
  public List<Table> sinkTables() {
    List<Table> tables = new ArrayList<>();
    catalogTable.ifPresent(tables::add);
    deltaLogTable.ifPresent(tables::add);
    hudiLockTable.ifPresent(tables::add);
    hudiLeaseTable.ifPresent(tables::add);
    return tables;
  }

  /** Key prefix of the app's temporary objects: {@code <app>/}. */
  public String appPrefix() {
    return config.app() + "/";
  }

  /** Key prefix of the lakehouse tables: {@code warehouse/}. */
  public String warehousePrefix() {
    return "warehouse/";
  }

  private Bucket createBucket() {
    return new Bucket(this, "Bucket", software.amazon.awscdk.services.s3.BucketProps.builder()
        .encryption(BucketEncryption.S3_MANAGED)
        .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
        .enforceSsl(true)
        .minimumTlsVersion(1.2)
        .objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED)
        .versioned(false)
        .removalPolicy(RemovalPolicy.RETAIN)
        .lifecycleRules(List.of(
            // no expiry: unpublished commits reference objects here; the maintenance run collects the rest (I7)
            LifecycleRule.builder().id("StageIncompleteUploads").prefix(config.app() + "/stage/")
                .abortIncompleteMultipartUploadAfter(Duration.days(1)).build(),
            expiry("ExpireShuffle", config.app() + "/shuffle/", config.storage().shuffleExpiryDays()),
            archive(config.app() + "/archive/", config.storage())))
        .build());
  }

  /** The archive of committed input (SPINDRIFT_ARCHIVE): Standard-IA after a while, kept unless told otherwise. */
  private static LifecycleRule archive(String prefix, PipelineConfig.StorageSettings storage) {
    LifecycleRule.Builder rule = LifecycleRule.builder()
        .id("ArchiveLifecycle")
        .prefix(prefix)
        .transitions(List.of(software.amazon.awscdk.services.s3.Transition.builder()
            .storageClass(software.amazon.awscdk.services.s3.StorageClass.INFREQUENT_ACCESS)
            .transitionAfter(Duration.days(storage.archiveInfrequentAccessDays()))
            .build()))
        .abortIncompleteMultipartUploadAfter(Duration.days(1));
    if (storage.archiveExpiryDays() > 0) {
      rule.expiration(Duration.days(storage.archiveExpiryDays()));
    }
    return rule.build();
  }

  private static LifecycleRule expiry(String id, String prefix, int days) {
    return LifecycleRule.builder()
        .id(id)
        .prefix(prefix)
        .expiration(Duration.days(days))
        .abortIncompleteMultipartUploadAfter(Duration.days(1))
        .build();
  }

  private Table icebergCatalogTable() {
    // Iceberg's DynamoDbCatalog creates exactly this schema when the table is missing; creating it
    // here means the function never needs dynamodb:CreateTable.
    Table table = table("IcebergCatalog", key("identifier"), Optional.of(key("namespace")), Optional.empty());
    table.addGlobalSecondaryIndex(GlobalSecondaryIndexProps.builder()
        .indexName("namespace-identifier")
        .partitionKey(key("namespace"))
        .sortKey(key("identifier"))
        .projectionType(ProjectionType.KEYS_ONLY)
        .build());
    return table;
  }

  private Table table(String id, Attribute partitionKey, Optional<Attribute> sortKey, Optional<String> ttlAttribute) {
    TableProps.Builder props = TableProps.builder()
        .partitionKey(partitionKey)
        .billingMode(BillingMode.PAY_PER_REQUEST)
        .encryption(TableEncryption.AWS_MANAGED)
        .pointInTimeRecoverySpecification(PointInTimeRecoverySpecification.builder()
            .pointInTimeRecoveryEnabled(true)
            .build())
        .removalPolicy(RemovalPolicy.RETAIN);
    sortKey.ifPresent(props::sortKey);
    ttlAttribute.ifPresent(props::timeToLiveAttribute);
    return new Table(this, id, props.build());
  }

  private static Attribute key(String name) {
    return Attribute.builder().name(name).type(AttributeType.STRING).build();
  }

  private static Attribute binaryKey(String name) {
    return Attribute.builder().name(name).type(AttributeType.BINARY).build();
  }

  /**
   * Environment entries naming the tables, in the {@code SPINDRIFT_*} vocabulary. The runtime reads
   * the commit, catalog and Delta log-store names; it does not yet read the state or Hudi ones (it
   * uses fixed names there), so those entries are what it should read once it does.
   */
  public Map<String, String> tableSettings() {
    Map<String, String> settings = new java.util.LinkedHashMap<>();
    settings.put("SPINDRIFT_COMMIT_TABLE", commitTable.getTableName());
    settings.put("SPINDRIFT_STATE_TABLE", stateTable.getTableName());
    catalogTable.ifPresent(t -> settings.put("SPINDRIFT_CATALOG_TABLE", t.getTableName()));
    deltaLogTable.ifPresent(t -> settings.put("SPINDRIFT_DELTA_LOG_TABLE", t.getTableName()));
    hudiLockTable.ifPresent(t -> settings.put("SPINDRIFT_HUDI_LOCK_TABLE", t.getTableName()));
    hudiLeaseTable.ifPresent(t -> settings.put("SPINDRIFT_HUDI_LEASE_TABLE", t.getTableName()));
    return settings;
  }
}
