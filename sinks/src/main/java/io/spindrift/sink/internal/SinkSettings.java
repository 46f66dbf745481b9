package io.spindrift.sink.internal;

import io.spindrift.config.Setting;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the sinks read from the runtime's settings ({@link SinkContext#setting}), in one place: where a table lives
 * on S3 (Delta and Hudi address tables by path), and the Hadoop S3A settings for the bucket.
 */
public final class SinkSettings {
  /** S3A's upload part size, and so the memory buffer each file being written holds ({@code fs.s3a.multipart.size}). */
  static final String MULTIPART_SIZE = "8M";

  private SinkSettings() {}

  /** {@code s3a://<bucket>/warehouse/<namespace>/<table>}, or under {@code SPINDRIFT_WAREHOUSE} when set. */
  public static String tableLocation(SinkContext context, SinkSpec spec) {
    String warehouse = context.setting(Setting.WAREHOUSE);
    if (warehouse.isBlank()) {
      warehouse = "s3a://" + context.setting(Setting.BUCKET) + "/warehouse";
    }
    return s3a(warehouse) + "/" + spec.namespace() + "/" + spec.name();
  }

  /** The location with an {@code s3a://} scheme (Hadoop's S3 connector) and no trailing slash. */
  public static String s3a(String location) {
    return location.replaceFirst("^s3n?://", "s3a://").replaceAll("/+$", "");
  }

  /**
   * Hadoop S3A settings scoped to the bucket ({@code fs.s3a.bucket.<bucket>.*}): region, the endpoint of a local
   * stack, static keys when given, uploads buffered in memory (a Lambda's {@code /tmp} is small) in 8 MiB parts, and
   * directory markers kept.
   */
  public static Map<String, String> s3aProperties(SinkContext context) {
    String bucket = context.setting(Setting.BUCKET);
    String endpoint = context.setting(Setting.S3_ENDPOINT);
    String accessKey = context.setting(Setting.ACCESS_KEY);
    Map<String, String> properties = new LinkedHashMap<>();
    String prefix = "fs.s3a.bucket." + bucket + ".";
    properties.put(prefix + "endpoint.region", context.setting(Setting.REGION));
    if (!endpoint.isBlank()) {
      properties.put(prefix + "endpoint", endpoint);
      properties.put(prefix + "path.style.access", "true");
      properties.put(prefix + "connection.ssl.enabled", Boolean.toString(endpoint.startsWith("https:")));
    }
    if (!accessKey.isBlank()) {
      properties.put(prefix + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
      properties.put(prefix + "access.key", accessKey);
      properties.put(prefix + "secret.key", context.setting(Setting.SECRET_KEY));
    }
    properties.put(prefix + "fast.upload.buffer", "bytebuffer");
    // every file S3A creates takes one block buffer of this size up front, zeroed (a direct buffer from Hadoop's
    // weakly held pool, which each GC empties): at S3A's default 64 MiB that memset was 5 % of a Hudi demo's CPU,
    // for table files, instant files and markers of a few KiB. 8 MiB parts, as the AWS CLI uploads, above S3's
    // 5 MiB minimum
    properties.put(prefix + "multipart.size", MULTIPART_SIZE);
    // keep directory markers (Hadoop 3.4's default; every S3A since 3.2.2 reads them right): otherwise every file
    // written costs a bulk DELETE of its parents' markers, and every file deleted a LIST and a marker PUT
    properties.put(prefix + "directory.marker.retention", "keep");
    return properties;
  }
}
