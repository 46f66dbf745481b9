package io.spindrift.sink.iceberg;

import java.util.HashMap;
import java.util.Map;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Executor;
import org.apache.iceberg.BaseMetastoreTableOperations;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.io.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * The table operations of Iceberg's DynamoDB catalog (same catalog item: {@code p.metadata_location}, the
 * optimistic-lock version {@code v}), for a writer that commits one table again and again: after its own
 * successful commit it holds the metadata it wrote as current (trusted) instead of reading it back, and it
 * commits with a conditional update on the version it last saw instead of reading the item first.
 *
 * <p>Trusting is safe because every commit is conditional: if another writer committed meanwhile, the update
 * fails, trust ends, and Iceberg's retry refreshes from the catalog and re-validates (Spindrift's publish
 * validates the ancestry on every attempt). A warm publish so makes one catalog request instead of five (item
 * read before apply, item read before the update, the update, item and metadata file read after it). Superseded
 * metadata files ({@code write.metadata.delete-after-commit.enabled}) are deleted after the commit returns, in
 * the background. {@link #distrust()} makes the next refresh read the catalog (callers that know the table
 * moved).
 */
final class OwnCommitsTableOperations extends BaseMetastoreTableOperations {
  private static final Logger LOG = LoggerFactory.getLogger(OwnCommitsTableOperations.class);
  static final String METADATA_LOCATION = "p." + METADATA_LOCATION_PROP;
  static final String PREVIOUS_METADATA_LOCATION = "p." + PREVIOUS_METADATA_LOCATION_PROP;
  static final String TABLE_TYPE = "p." + TABLE_TYPE_PROP;
  static final String VERSION = "v";

  private final DynamoDbClient dynamo;
  private final String catalogTable;
  private final String fullName;
  private final TableIdentifier id;
  private final FileIO io;
  private final Executor cleaner;
  /** The catalog item's version as this writer last read or wrote it (null before the first read). */
  private volatile AttributeValue version;
  /** True while the metadata of this writer's last commit is taken as current without reading the catalog. */
  private volatile boolean trusted;

  OwnCommitsTableOperations(DynamoDbClient dynamo, String catalogTable, String catalogName, FileIO io,
      TableIdentifier id, Executor cleaner) {
    this.dynamo = dynamo;
    this.catalogTable = catalogTable;
    this.fullName = catalogName + "." + id;
    this.id = id;
    this.io = io;
    this.cleaner = cleaner;
  }

  @Override
  protected String tableName() {
    return fullName;
  }

  @Override
  public FileIO io() {
    return io;
  }

  /** The next refresh reads the catalog, also right after this writer's own commit. */
  void distrust() {
    trusted = false;
  }

  boolean trusted() {
    return trusted;
  }

  @Override
  protected void doRefresh() {
    if (trusted) {
      return;
    }
    GetItemResponse item = dynamo.getItem(get -> get.tableName(catalogTable).consistentRead(true).key(key()));
    String location = null;
    if (item.hasItem()) {
      location = item.item().get(METADATA_LOCATION).s();
      version = item.item().get(VERSION);
    } else if (currentMetadataLocation() != null) {
      throw new NoSuchTableException("Cannot find table %s after refresh, maybe another process deleted it",
          tableName());
    }
    refreshFromMetadataLocation(location);
  }

  @Override
  public void commit(TableMetadata base, TableMetadata metadata) {
    if (base != current()) {
      if (base == null) {
        throw new AlreadyExistsException("Table already exists: %s", tableName());
      }
      throw new CommitFailedException("Cannot commit %s: stale table metadata", tableName());
    }
    if (base == metadata) {
      return;
    }
    if (base != null && version == null) {
      trusted = false;
      throw new CommitFailedException("Cannot commit %s: the catalog item's version is not known yet", tableName());
    }
    String location = writeNewMetadataIfRequired(base == null, metadata);
    try {
      persist(base, metadata, location);
    } catch (CommitStateUnknownException unknown) {
      throw unknown; // the file may be the table's metadata now: keep it
    } catch (RuntimeException failed) {
      deleteQuietly(location);
      throw failed;
    }
    if (trusted) {
      // the metadata just written is the table's current metadata: installed as if read back, without reading it
      TableMetadata written =
          TableMetadata.buildFrom(metadata).withMetadataLocation(location).discardChanges().build();
      refreshFromMetadataLocation(location, null, 0, ignored -> written);
    }
    cleaner.execute(() -> {
      try {
        CatalogUtil.deleteRemovedMetadataFiles(io, base, metadata);
      } catch (RuntimeException e) {
        LOG.warn("Could not delete metadata files superseded by {} (orphans now): {}", location, e.toString());
      }
    });
  }

  /**
   * The conditional write of the catalog item. Returns with {@link #trusted} set when the write landed as issued,
   * without it when a failed or retried write turned out to have landed (the metadata was then read back). A lost
   * race is a {@link CommitFailedException}, which Iceberg retries on refreshed metadata.
   */
  private void persist(TableMetadata base, TableMetadata metadata, String location) {
    AttributeValue next = AttributeValue.fromS(UUID.randomUUID().toString());
    AttributeValue now = AttributeValue.fromN(Long.toString(System.currentTimeMillis()));
    try {
      if (base == null) {
        Map<String, AttributeValue> item = new HashMap<>(key());
        item.put(TABLE_TYPE, AttributeValue.fromS(ICEBERG_TABLE_TYPE_VALUE.toUpperCase(Locale.ROOT)));
        item.put(METADATA_LOCATION, AttributeValue.fromS(location));
        item.put("created_at", now);
        item.put("updated_at", now);
        item.put(VERSION, next);
        dynamo.putItem(put -> put.tableName(catalogTable).item(item)
            .conditionExpression("attribute_not_exists(" + VERSION + ")"));
      } else {
        Map<String, String> names = Map.of("#loc", METADATA_LOCATION, "#prev", PREVIOUS_METADATA_LOCATION);
        Map<String, AttributeValue> values = Map.of(":loc", AttributeValue.fromS(location),
            ":prev", AttributeValue.fromS(base.metadataFileLocation()), ":uat", now, ":uv", next,
            ":v", version);
        dynamo.updateItem(update -> update.tableName(catalogTable).key(key())
            .updateExpression("SET #loc = :loc, #prev = :prev, updated_at = :uat, " + VERSION + " = :uv")
            .conditionExpression(VERSION + " = :v")
            .expressionAttributeNames(names).expressionAttributeValues(values));
      }
      version = next;
      trusted = true;
    } catch (ConditionalCheckFailedException raced) {
      // another writer committed first, or the SDK retried a write of ours that had landed: look, then decide
      trusted = false;
      if (checkCommitStatus(location, metadata) != CommitStatus.SUCCESS) {
        throw new CommitFailedException(raced, "Cannot commit %s: concurrent update detected", tableName());
      }
    } catch (RuntimeException unexpected) {
      trusted = false;
      switch (checkCommitStatus(location, metadata)) {
        case SUCCESS -> { }
        case FAILURE -> throw new CommitFailedException(unexpected, "Cannot commit %s due to unexpected exception",
            tableName());
        default -> throw new CommitStateUnknownException(unexpected);
      }
    }
  }

  private Map<String, AttributeValue> key() {
    return Map.of("identifier", AttributeValue.fromS(id.toString()),
        "namespace", AttributeValue.fromS(id.namespace().toString()));
  }

  private void deleteQuietly(String location) {
    try {
      io.deleteFile(location);
    } catch (RuntimeException e) {
      LOG.warn("Could not delete uncommitted metadata file {}: {}", location, e.toString());
    }
  }
}
