package io.spindrift.local.mapping;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.AmazonKinesisClientBuilder;
import java.util.function.Consumer;

/** Builds local event-source mappings over a local Kinesis stream or Kafka topic. */
public final class EventSources {
  private static final String ACCOUNT = "000000000000";

  private EventSources() {}

  /** A Kinesis client for a local emulator (CBOR off: kinesalite speaks JSON only). */
  public static AmazonKinesis kinesisClient(String endpoint, String region) {
    System.setProperty("com.amazonaws.sdk.disableCbor", "true");
    return AmazonKinesisClientBuilder.standard()
        .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, region))
        .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials("local", "local")))
        .build();
  }

  /**
   * One worker per shard of {@code stream}, as Lambda runs one concurrent batch per shard. Shards created by a
   * reshard after the start are found by periodic discovery; a child shard is read once its parents are finished.
   */
  public static LocalEventSourceMapping kinesis(AmazonKinesis kinesis, String stream, String region,
      LambdaInvoker function, MappingOptions options, Consumer<FailedBatch> onFailure) {
    return new LocalEventSourceMapping(new KinesisShards(kinesis, stream, region, ACCOUNT), function, options,
        onFailure);
  }

  /** One worker over all partitions of {@code topic}; a batch may mix partitions, as MSK's mapping does. */
  public static LocalEventSourceMapping kafka(String bootstrap, String topic, String region, LambdaInvoker function,
      MappingOptions options, Consumer<FailedBatch> onFailure) {
    EventSource source = EventSource.single("kafka:" + topic, () -> new KafkaPoller(bootstrap, topic, region, ACCOUNT));
    return new LocalEventSourceMapping(source, function, options, onFailure);
  }
}
