package io.spindrift.sink.hudi;

import java.util.Properties;
import org.apache.hudi.aws.transaction.lock.DynamoDBBasedLockProvider;
import org.apache.hudi.common.config.LockConfiguration;
import org.apache.hudi.storage.StorageConfiguration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Hudi's {@link DynamoDBBasedLockProvider} with a DynamoDB client Spindrift builds. Hudi's own client sets no
 * region (it relies on {@code AWS_REGION}) and no HTTP client (the SDK refuses to choose when, as in the Lambda jar,
 * several are on the class path). Hudi instantiates it from {@code hoodie.write.lock.provider}.
 */
public final class DynamoDbLockProvider extends DynamoDBBasedLockProvider {
  static final String TABLE = "hoodie.write.lock.dynamodb.table";
  static final String PARTITION_KEY = "hoodie.write.lock.dynamodb.partition_key";
  static final String REGION = "hoodie.write.lock.dynamodb.region";
  static final String ENDPOINT = "hoodie.write.lock.dynamodb.endpoint_url";
  static final String ACCESS_KEY = "hoodie.aws.access.key";
  static final String SECRET_KEY = "hoodie.aws.secret.key";

  private final DynamoDbClient dynamo;

  public DynamoDbLockProvider(LockConfiguration config, StorageConfiguration<?> storage) {
    this(config, storage, client(config.getConfig()));
  }

  private DynamoDbLockProvider(LockConfiguration config, StorageConfiguration<?> storage, DynamoDbClient dynamo) {
    super(config, storage, dynamo);
    this.dynamo = dynamo;
  }

  /** Gives the lock back and closes the client: Hudi builds a provider per commit (it closes it on unlock). */
  @Override
  public void close() {
    try {
      super.close();
    } finally {
      dynamo.close();
    }
  }

  private static DynamoDbClient client(Properties props) {
    return AwsSettings.dynamoDb(props.getProperty(REGION, "us-east-1"), props.getProperty(ENDPOINT),
        AwsSettings.credentials(props.getProperty(ACCESS_KEY), props.getProperty(SECRET_KEY, "")));
  }
}
