package io.spindrift.sink;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the sinks read from the runtime's {@code SPINDRIFT_*} settings, in one place: settings with an environment
 * fallback, where a table lives on S3 (Delta and Hudi address tables by path), and the Hadoop S3A settings for
 * the bucket.
 */
public final class SinkSettings {
  private SinkSettings() {}

  /** A setting from the runtime's settings, else the environment, else {@code fallback}. */
  public static String setting(Map<String, String> settings, String key, String fallback) {
    String value = settings.get(key);
    if (value == null || value.isBlank()) {
      value = System.getenv(key);
    }
    return value == null || value.isBlank() ? fallback : value;
  }

  /** {@code s3a://<bucket>/warehouse/<namespace>/<table>}, or under {@code SPINDRIFT_WAREHOUSE} when set. */
  public static String tableLocation(Map<String, String> settings, SinkSpec spec) {
    String warehouse = settings.getOrDefault("SPINDRIFT_WAREHOUSE", "");
    if (warehouse.isBlank()) {
      warehouse = "s3a://" + settings.getOrDefault("SPINDRIFT_BUCKET", "spindrift") + "/warehouse";
    }
    return s3a(warehouse) + "/" + spec.namespace() + "/" + spec.name();
  }

  /** The location with an {@code s3a://} scheme (Hadoop's S3 connector) and no trailing slash. */
  public static String s3a(String location) {
    return location.replaceFirst("^s3n?://", "s3a://").replaceAll("/+$", "");
  }

  /**
   * Hadoop S3A settings scoped to the bucket ({@code fs.s3a.bucket.<bucket>.*}): region, the endpoint of a local
   * stack, static keys when given, and uploads buffered in memory (a Lambda's {@code /tmp} is small).
   */
  public static Map<String, String> s3aProperties(Map<String, String> settings) {
    String bucket = settings.getOrDefault("SPINDRIFT_BUCKET", "spindrift");
    String endpoint = settings.getOrDefault("SPINDRIFT_S3_ENDPOINT", "");
    String accessKey = settings.getOrDefault("SPINDRIFT_ACCESS_KEY", "");
    Map<String, String> properties = new LinkedHashMap<>();
    String prefix = "fs.s3a.bucket." + bucket + ".";
    properties.put(prefix + "endpoint.region", settings.getOrDefault("SPINDRIFT_REGION", "us-east-1"));
    if (!endpoint.isBlank()) {
      properties.put(prefix + "endpoint", endpoint);
      properties.put(prefix + "path.style.access", "true");
      properties.put(prefix + "connection.ssl.enabled", Boolean.toString(endpoint.startsWith("https:")));
    }
    if (!accessKey.isBlank()) {
      properties.put(prefix + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
      properties.put(prefix + "access.key", accessKey);
      properties.put(prefix + "secret.key", settings.getOrDefault("SPINDRIFT_SECRET_KEY", ""));
    }
    properties.put(prefix + "fast.upload.buffer", "bytebuffer");
    return properties;
  }
}
