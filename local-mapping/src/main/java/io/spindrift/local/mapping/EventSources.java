package io.spindrift.local.mapping;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.AmazonKinesisClientBuilder;
import com.amazonaws.services.kinesis.model.Shard;
import java.util.ArrayList;
import java.util.List;
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

  /** One worker per shard of {@code stream}, as Lambda runs one concurrent batch per shard. */
  public static LocalEventSourceMapping kinesis(AmazonKinesis kinesis, String stream, String region,
      LambdaInvoker function, MappingOptions options, Consumer<FailedBatch> onFailure) {
    List<LanePoller> pollers = new ArrayList<>();
    for (Shard shard : kinesis.describeStream(stream).getStreamDescription().getShards()) {
      pollers.add(new KinesisPoller(kinesis, stream, shard.getShardId(), region, ACCOUNT));
    }
    return new LocalEventSourceMapping(pollers, function, options, onFailure);
  }

  /** One worker over all partitions of {@code topic}; a batch may mix partitions, as MSK's mapping does. */
  public static LocalEventSourceMapping kafka(String bootstrap, String topic, String region, LambdaInvoker function,
      MappingOptions options, Consumer<FailedBatch> onFailure) {
    return new LocalEventSourceMapping(List.of(new KafkaPoller(bootstrap, topic, region, ACCOUNT)), function, options,
        onFailure);
  }
}
