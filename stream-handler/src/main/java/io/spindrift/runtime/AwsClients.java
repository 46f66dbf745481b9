package io.spindrift.runtime;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.s3.S3Client;

/** AWS SDK clients built from the settings (endpoint overrides and static keys only on a local stack). */
public final class AwsClients {
  private AwsClients() {}

  public static DynamoDbClient dynamoDb(SpindriftConfig config) {
    var builder = DynamoDbClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.create());
    String endpoint = config.get(Setting.DYNAMODB_ENDPOINT);
    if (!endpoint.isBlank()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  /**
   * S3 on Apache's HTTP client, which checks a pooled connection before it reuses it and drops idle ones after 5 s:
   * URLConnection's keep-alive cache hands out connections the server already closed (S3 closes idle ones too), and
   * a PUT on one fails with "Error writing request body to server" on every retry once several went stale (seen in
   * CI on a stage PUT of a container that had been idle, and before on fan-out's exchange).
   */
  public static S3Client s3(SpindriftConfig config) {
    return exchangeS3(config);
  }

  /** The S3 client of fan-out's exchange (its own instance: the exchange closes it): as {@link #s3}. */
  public static S3Client exchangeS3(SpindriftConfig config) {
    var builder = S3Client.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(software.amazon.awssdk.http.apache.ApacheHttpClient.builder()
            .connectionMaxIdleTime(java.time.Duration.ofSeconds(5))
            .maxConnections(64)
            .build());
    String endpoint = config.get(Setting.S3_ENDPOINT);
    if (!endpoint.isBlank()) {
      builder.endpointOverride(URI.create(endpoint)).forcePathStyle(true);
    }
    return builder.build();
  }

  /**
   * Lambda's API (no endpoint override: AWS only): the function's own event-source mappings, and fan-out's child
   * invocations, which last as long as a child runs (up to Lambda's 15 minutes).
   */
  public static LambdaClient lambda(SpindriftConfig config) {
    return LambdaClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(java.time.Duration.ofMinutes(15)).build())
        .overrideConfiguration(o -> o.apiCallTimeout(java.time.Duration.ofMinutes(15))
            .apiCallAttemptTimeout(java.time.Duration.ofMinutes(15)))
        .build();
  }

  /** Kinesis (catch-up read-ahead's GetRecords), with SPINDRIFT_KINESIS_ENDPOINT's override on a local stack. */
  public static software.amazon.awssdk.services.kinesis.KinesisClient kinesis(SpindriftConfig config) {
    var builder = software.amazon.awssdk.services.kinesis.KinesisClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.create());
    String endpoint = config.get(Setting.KINESIS_ENDPOINT);
    if (!endpoint.isBlank()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  /**
   * The string value of the Secrets Manager secret {@code arn} (read-ahead's Kafka SCRAM credentials, the MSK
   * mapping's secret), read with a client made for the call.
   */
  public static String secret(SpindriftConfig config, String arn) {
    try (var secrets = software.amazon.awssdk.services.secretsmanager.SecretsManagerClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.create())
        .build()) {
      return secrets.getSecretValue(b -> b.secretId(arn)).secretString();
    }
  }

  /** Glue (the Glue Schema Registry's GetSchemaVersion), with SPINDRIFT_GLUE_ENDPOINT as its endpoint override. */
  public static software.amazon.awssdk.services.glue.GlueClient glue(SpindriftConfig config) {
    var builder = software.amazon.awssdk.services.glue.GlueClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.create());
    String endpoint = config.get(Setting.GLUE_ENDPOINT);
    if (!endpoint.isBlank()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  static AwsCredentialsProvider credentials(SpindriftConfig config) {
    String key = config.get(Setting.ACCESS_KEY);
    if (key.isBlank()) {
      return DefaultCredentialsProvider.builder().build();
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(key, config.get(Setting.SECRET_KEY)));
  }
}
