package io.spindrift.examples;

import com.amazonaws.services.kinesis.AmazonKinesis;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.local.LocalStack;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.runtime.AwsClients;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * Local mode: Spindrift's settings for a {@link LocalStack} (endpoints, keys, bucket) and the clients the demo
 * and the end-to-end tests use to feed it.
 */
public final class LocalPipeline {
  private LocalPipeline() {}

  /** Settings that point Spindrift at {@code stack}; {@code overrides} wins. Creates the bucket. */
  public static SpindriftConfig config(LocalStack stack, Map<String, String> overrides) {
    Map<String, String> settings = new HashMap<>();
    settings.put("SPINDRIFT_S3_ENDPOINT", stack.s3Endpoint());
    settings.put("SPINDRIFT_DYNAMODB_ENDPOINT", stack.dynamoDbEndpoint());
    settings.put("SPINDRIFT_ACCESS_KEY", stack.accessKey());
    settings.put("SPINDRIFT_SECRET_KEY", stack.secretKey());
    settings.put("SPINDRIFT_REGION", stack.region());
    settings.put("SPINDRIFT_SHUFFLE_PARTITIONS", "2");
    settings.put("SPARK_MASTER", "local[2]");
    settings.putAll(overrides);
    SpindriftConfig config = SpindriftConfig.of(settings);
    try (S3Client s3 = AwsClients.s3(config)) {
      s3.createBucket(b -> b.bucket(config.bucket()));
    } catch (BucketAlreadyOwnedByYouException exists) {
      // the bucket is shared by apps on one stack
    } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
      if (e.statusCode() != 409) {
        throw e;
      }
    }
    return config;
  }

  public static AmazonKinesis kinesis(LocalStack stack) {
    return EventSources.kinesisClient(stack.kinesisEndpoint(), stack.region());
  }
}
