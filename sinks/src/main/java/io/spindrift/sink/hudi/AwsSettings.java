package io.spindrift.sink.hudi;

import io.spindrift.config.Setting;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.internal.SinkSettings;
import java.net.URI;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The AWS side of a Hudi table, from the {@code SPINDRIFT_*} settings: S3A settings for the bucket the tables live
 * in (scoped to it, {@code fs.s3a.bucket.<bucket>.*}, as the Delta sink sets them) and DynamoDB clients for the
 * publish lease and Hudi's lock provider. Endpoints and static keys are set only for a local stack.
 */
record AwsSettings(Map<String, String> s3aProperties, String region, String dynamoDbEndpoint, String accessKey,
                   String secretKey) {

  static AwsSettings from(SinkContext context) {
    return new AwsSettings(SinkSettings.s3aProperties(context), context.setting(Setting.REGION),
        context.setting(Setting.DYNAMODB_ENDPOINT), context.setting(Setting.ACCESS_KEY),
        context.setting(Setting.SECRET_KEY));
  }

  /**
   * Sets the S3A settings on the session and on the Spark context's Hadoop configuration: Hudi's write client
   * takes its storage configuration from the latter, not from the session.
   */
  void applyTo(SparkSession session) {
    s3aProperties().forEach((key, value) -> {
      session.conf().set(key, value);
      session.sparkContext().hadoopConfiguration().set(key, value);
    });
  }

  DynamoDbClient dynamoDb() {
    return dynamoDb(region, dynamoDbEndpoint, credentials(accessKey, secretKey));
  }

  static DynamoDbClient dynamoDb(String region, String endpoint, AwsCredentialsProvider credentials) {
    var builder = DynamoDbClient.builder()
        .region(Region.of(region))
        .credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.create());
    if (endpoint != null && !endpoint.isBlank()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  static AwsCredentialsProvider credentials(String accessKey, String secretKey) {
    if (accessKey == null || accessKey.isBlank()) {
      return DefaultCredentialsProvider.builder().build();
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
  }
}
