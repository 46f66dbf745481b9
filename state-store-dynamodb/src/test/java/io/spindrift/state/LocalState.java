package io.spindrift.state;

import io.spindrift.local.LocalStack;
import java.net.URI;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** What this module's tests share: DynamoDB Local from the shared local stack, the state table, one SparkSession. */
final class LocalState {
  private static DynamoDbClient dynamo;
  private static SparkSession spark;

  private LocalState() {}

  static synchronized DynamoDbClient dynamo() {
    if (dynamo == null) {
      LocalStack stack = LocalStack.shared();
      dynamo = DynamoDbClient.builder()
          .endpointOverride(URI.create(stack.dynamoDbEndpoint()))
          .region(Region.of(stack.region()))
          .credentialsProvider(StaticCredentialsProvider.create(
              AwsBasicCredentials.create(stack.accessKey(), stack.secretKey())))
          .httpClient(UrlConnectionHttpClient.create())
          .build();
      new StateTable(dynamo, StateTable.DEFAULT_TABLE, "setup").ensureTable();
    }
    return dynamo;
  }

  /** A state table for a fresh app, so that tests never see each other's state. */
  static StateTable freshApp() {
    return new StateTable(dynamo(), StateTable.DEFAULT_TABLE, "test-" + UUID.randomUUID());
  }

  /** Another container's view of the same app's state (its own cache and counters). */
  static StateTable sameApp(StateTable other) {
    return new StateTable(dynamo(), other.table(), other.app());
  }

  static synchronized SparkSession spark() {
    if (spark == null) {
      spark = SparkSession.builder()
          .master("local[2]")
          .appName("state-store-dynamodb-tests")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.sql.shuffle.partitions", "2")
          .config("spark.sql.session.timeZone", "UTC")
          .config("spark.sql.adaptive.enabled", "false")
          .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
          .getOrCreate();
    }
    return spark;
  }
}
