package io.spindrift.sink.iceberg;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How to reach the Iceberg catalog: its type ({@code dynamodb}, {@code glue} or {@code rest}), the warehouse
 * location and, on a local stack, the S3 and DynamoDB endpoints and static credentials.
 */
public record CatalogSettings(
    String name,
    String type,
    String warehouse,
    String catalogTable,
    String restUri,
    String region,
    String s3Endpoint,
    String dynamoDbEndpoint,
    String accessKey,
    String secretKey) {

  /**
   * The properties of the catalog the runtime publishes with: as {@link #properties()}, with a DynamoDB catalog
   * whose tables hold their own last commit as current ({@link OwnCommitsDynamoDbCatalog}).
   */
  public Map<String, String> publisherProperties() {
    Map<String, String> props = properties();
    if ("dynamodb".equalsIgnoreCase(type)) {
      props.put("catalog-impl", OwnCommitsDynamoDbCatalog.class.getName());
    }
    return props;
  }

  /** The catalog properties, in Iceberg's own names, shared by the runtime and Spark's SparkCatalog. */
  public Map<String, String> properties() {
    Map<String, String> props = new HashMap<>();
    switch (type.toLowerCase(Locale.ROOT)) {
      case "dynamodb" -> {
        props.put("catalog-impl", "org.apache.iceberg.aws.dynamodb.DynamoDbCatalog");
        props.put("dynamodb.table-name", catalogTable);
      }
      case "glue" -> props.put("catalog-impl", "org.apache.iceberg.aws.glue.GlueCatalog");
      case "rest" -> {
        props.put("catalog-impl", "org.apache.iceberg.rest.RESTCatalog");
        props.put("uri", restUri);
      }
      default -> throw new IllegalArgumentException(
          "Invalid SPINDRIFT_CATALOG: '" + type + "' (expected dynamodb, glue or rest)");
    }
    props.put("warehouse", warehouse);
    props.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
    props.put("client.region", region);
    // Apache's client checks a pooled connection before reusing it; URLConnection's keep-alive cache hands out ones
    // the server closed, and a PUT on one fails "Error writing request body to server" on every retry (seen in CI)
    props.put("http-client.type", "apache");
    props.put("http-client.apache.connection-max-idle-time-ms", "5000");
    if (s3Endpoint != null && !s3Endpoint.isBlank()) {
      props.put("s3.endpoint", s3Endpoint);
      props.put("s3.path-style-access", "true");
    }
    if (dynamoDbEndpoint != null && !dynamoDbEndpoint.isBlank()) {
      props.put("dynamodb.endpoint", dynamoDbEndpoint);
    }
    if (accessKey != null && !accessKey.isBlank()) {
      // every client Iceberg builds (S3, DynamoDB, Glue) signs with these, not with the default chain
      props.put("client.credentials-provider", StaticCredentials.class.getName());
      props.put("client.credentials-provider." + StaticCredentials.ACCESS_KEY, accessKey);
      props.put("client.credentials-provider." + StaticCredentials.SECRET_KEY, secretKey);
    }
    return props;
  }
}
