package io.spindrift.sink.iceberg;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.aws.AwsClientFactories;
import org.apache.iceberg.aws.AwsProperties;
import org.apache.iceberg.aws.dynamodb.DynamoDbCatalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.FileIO;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Iceberg's DynamoDB catalog whose tables are committed through {@link OwnCommitsTableOperations}: the catalog
 * Spindrift's runtime publishes with. Same catalog table, same items: Spark, Trino or Iceberg's own
 * {@code DynamoDbCatalog} read and write the tables alongside. Spark's session catalog keeps Iceberg's class,
 * whose reads always go to the catalog.
 */
public class OwnCommitsDynamoDbCatalog extends DynamoDbCatalog {
  private static final TableIdentifier ANY = TableIdentifier.of("spindrift", "probe");
  private DynamoDbClient dynamo;
  private String catalogTable;
  private FileIO io;
  /** Deletes superseded metadata files after commits return. */
  private ExecutorService cleaner;

  @Override
  public void initialize(String name, Map<String, String> properties) {
    super.initialize(name, properties);
    this.dynamo = AwsClientFactories.from(properties).dynamo();
    this.catalogTable = new AwsProperties(properties).dynamoDbTableName();
    // the catalog's own FileIO (no I/O to get it: building table operations reads nothing)
    this.io = super.newTableOps(ANY).io();
    this.cleaner = BackgroundThread.named("spindrift-iceberg-metadata-cleaner");
  }

  @Override
  protected TableOperations newTableOps(TableIdentifier id) {
    super.newTableOps(id); // validates the identifier as Iceberg does
    return new OwnCommitsTableOperations(dynamo, catalogTable, name(), io, id, cleaner);
  }

  @Override
  public void close() throws IOException {
    try {
      super.close();
    } finally {
      cleaner.shutdown();
      dynamo.close();
    }
  }
}
