package io.spindrift.state;

import io.spindrift.local.LocalStack;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * What this module's tests share: DynamoDB Local and s3proxy from the shared local stack, the state table, the
 * spill bucket, one SparkSession.
 */
public final class LocalState {
  public static final String SPILL_BUCKET = "spindrift-state-tests";
  private static DynamoDbClient dynamo;
  private static S3Client s3;
  private static SparkSession spark;

  private LocalState() {}

  public static synchronized DynamoDbClient dynamo() {
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

  /** A state table for a fresh app whose large values spill to {@link #SPILL_BUCKET}. */
  static StateTable freshAppWithSpill() {
    return withSpill(dynamo(), "test-" + UUID.randomUUID());
  }

  /** {@code app}'s state through {@code client}, spilling to {@code s3://SPILL_BUCKET/<app>/state}. */
  static StateTable withSpill(DynamoDbClient client, String app) {
    return new StateTable(client, StateTable.DEFAULT_TABLE, app, Duration.ZERO, spill(app));
  }

  static StateSpill spill(String app) {
    return new StateSpill(s3(), "s3://" + SPILL_BUCKET + "/" + app + "/state",
        "s3://" + SPILL_BUCKET + "/" + app + "/stage");
  }

  public static synchronized S3Client s3() {
    if (s3 == null) {
      LocalStack stack = LocalStack.shared();
      s3 = S3Client.builder()
          .endpointOverride(URI.create(stack.s3Endpoint()))
          .forcePathStyle(true)
          .region(Region.of(stack.region()))
          .credentialsProvider(StaticCredentialsProvider.create(
              AwsBasicCredentials.create(stack.accessKey(), stack.secretKey())))
          .httpClient(UrlConnectionHttpClient.create())
          .build();
      try {
        s3.createBucket(b -> b.bucket(SPILL_BUCKET));
      } catch (BucketAlreadyOwnedByYouException | BucketAlreadyExistsException exists) {
        // a second test JVM on the same stack
      }
    }
    return s3;
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
