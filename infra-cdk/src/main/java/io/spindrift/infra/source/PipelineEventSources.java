package io.spindrift.infra.source;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfig.EventSourceSettings;
import io.spindrift.infra.config.PipelineConfig.KinesisSource;
import io.spindrift.infra.config.PipelineConfig.MskAuthType;
import io.spindrift.infra.config.PipelineConfig.MskSource;
import java.util.List;
import java.util.Optional;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.kinesis.IStream;
import software.amazon.awscdk.services.kinesis.Stream;
import software.amazon.awscdk.services.kinesis.StreamEncryption;
import software.amazon.awscdk.services.kinesis.StreamConsumer;
import software.amazon.awscdk.services.kinesis.StreamMode;
import software.amazon.awscdk.services.lambda.DockerImageFunction;
import software.amazon.awscdk.services.lambda.EventSourceMapping;
import software.amazon.awscdk.services.lambda.IEventSource;
import software.amazon.awscdk.services.lambda.MetricType;
import software.amazon.awscdk.services.lambda.MetricsConfig;
import software.amazon.awscdk.services.lambda.ProvisionedPollerConfig;
import software.amazon.awscdk.services.lambda.SourceAccessConfiguration;
import software.amazon.awscdk.services.lambda.SourceAccessConfigurationType;
import software.amazon.awscdk.services.lambda.StartingPosition;
import software.amazon.awscdk.services.lambda.eventsources.KinesisConsumerEventSource;
import software.amazon.awscdk.services.lambda.eventsources.KinesisEventSource;
import software.amazon.awscdk.services.lambda.eventsources.SqsDlq;
import software.amazon.awscdk.services.sqs.Queue;
import software.amazon.awscdk.services.sqs.QueueEncryption;
import software.constructs.Construct;

/**
 * Kinesis and MSK event-source mappings with every delivery option Spindrift relies on: partial
 * batch responses (the handler reports the first uncommitted record), bisect on error, bounded
 * retries and record age, and an SQS on-failure destination so that nothing is dropped silently.
 * ParallelizationFactor is always 1 (DESIGN §5). A Kinesis mapping may read through an enhanced
 * fan-out consumer ({@code kinesis.enhancedFanOut}) the stack registers on the stream. With
 * {@code runtime.readAhead}, the MSK handler also learns the cluster's brokers and how to authenticate to them.
 */
public final class PipelineEventSources extends Construct {
  private final Queue onFailure;
  private final Optional<IStream> stream;
  private final Optional<StreamConsumer> consumer;
  private final Optional<EventSourceMapping> mskMapping;
  private final Optional<MskBootstrapBrokers> mskBootstrapBrokers;

  public PipelineEventSources(
      Construct scope,
      String id,
      PipelineConfig config,
      Optional<DockerImageFunction> kinesisHandler,
      Optional<DockerImageFunction> mskHandler) {
    super(scope, id);
    this.onFailure = Queue.Builder.create(this, "OnFailure")
        .encryption(QueueEncryption.SQS_MANAGED)
        .enforceSsl(true)
        .retentionPeriod(Duration.days(14))
        .build();
    this.stream = config.kinesis().map(this::stream);
    this.consumer = config.kinesis().filter(KinesisSource::enhancedFanOut)
        .map(source -> consumer(stream.orElseThrow(), source.consumerName(config.app())));
    stream.ifPresent(s -> kinesisHandler.orElseThrow().addEventSource(consumer
        .<IEventSource>map(c -> kinesis(c, config.eventSource()))
        .orElseGet(() -> kinesis(s, config.eventSource()))));
    this.mskMapping = config.msk().map(msk -> msk(msk, config.eventSource(), mskHandler.orElseThrow()));
    this.mskBootstrapBrokers = config.msk().filter(msk -> config.runtime().readAhead())
        .map(msk -> readAhead(msk, mskHandler.orElseThrow()));
  }

  /** The on-failure destination of both mappings. */
  public Queue onFailure() {
    return onFailure;
  }

  /** The Kinesis stream (created or imported), if a Kinesis source is configured. */
  public Optional<IStream> stream() {
    return stream;
  }

  /** The enhanced fan-out consumer the Kinesis mapping reads through, if {@code kinesis.enhancedFanOut}. */
  public Optional<StreamConsumer> consumer() {
    return consumer;
  }

  public Optional<EventSourceMapping> mskMapping() {
    return mskMapping;
  }

  /** The MSK brokers catch-up read-ahead connects to, if an MSK source is configured and {@code runtime.readAhead}. */
  public Optional<MskBootstrapBrokers> mskBootstrapBrokers() {
    return mskBootstrapBrokers;
  }

  private IStream stream(KinesisSource source) {
    if (source.createsStream()) {
      return Stream.Builder.create(this, "Stream")
          .streamMode(StreamMode.PROVISIONED)
          .shardCount(source.shardCount().orElseThrow())
          .encryption(StreamEncryption.MANAGED)
          .retentionPeriod(Duration.hours(24))
          .build();
    }
    return Stream.fromStreamArn(this, "ImportedStream", source.streamArn().orElseThrow());
  }

  private StreamConsumer consumer(IStream stream, String name) {
    return StreamConsumer.Builder.create(this, "Consumer").stream(stream).streamConsumerName(name).build();
  }

  /**
   * The mapping on an enhanced fan-out consumer: the same delivery options; the event source grants
   * the function {@code kinesis:DescribeStreamConsumer} and {@code kinesis:SubscribeToShard} on the
   * consumer, and read access to its stream.
   */
  private KinesisConsumerEventSource kinesis(StreamConsumer consumer, EventSourceSettings settings) {
    return KinesisConsumerEventSource.Builder.create(consumer)
        .startingPosition(startingPosition(settings))
        .batchSize(settings.batchSize())
        .maxBatchingWindow(Duration.seconds(settings.batchingWindowSeconds()))
        .parallelizationFactor(settings.parallelizationFactor())
        .retryAttempts(settings.retryAttempts())
        .maxRecordAge(Duration.seconds(settings.maxRecordAgeSeconds()))
        .bisectBatchOnError(true)
        .reportBatchItemFailures(true)
        .onFailure(new SqsDlq(onFailure))
        .metricsConfig(MetricsConfig.builder().metrics(List.of(MetricType.EVENT_COUNT)).build())
        .build();
  }

  private KinesisEventSource kinesis(IStream stream, EventSourceSettings settings) {
    return KinesisEventSource.Builder.create(stream)
        .startingPosition(startingPosition(settings))
        .batchSize(settings.batchSize())
        .maxBatchingWindow(Duration.seconds(settings.batchingWindowSeconds()))
        .parallelizationFactor(settings.parallelizationFactor())
        .retryAttempts(settings.retryAttempts())
        .maxRecordAge(Duration.seconds(settings.maxRecordAgeSeconds()))
        .bisectBatchOnError(true)
        .reportBatchItemFailures(true)
        .onFailure(new SqsDlq(onFailure))
        .metricsConfig(MetricsConfig.builder().metrics(List.of(MetricType.EVENT_COUNT)).build())
        .build();
  }

  private EventSourceMapping msk(MskSource msk, EventSourceSettings settings, DockerImageFunction fn) {
    // Built directly rather than with ManagedKafkaEventSource, which attaches the broad
    // AWSLambdaMSKExecutionRole managed policy; the statements below are the scoped equivalent.
    EventSourceMapping.Builder mapping = EventSourceMapping.Builder.create(this, "MskMapping")
        .target(fn)
        .eventSourceArn(msk.clusterArn())
        .kafkaTopic(msk.topic())
        .kafkaConsumerGroupId(msk.consumerGroup())
        .startingPosition(startingPosition(settings))
        .batchSize(settings.batchSize())
        .maxBatchingWindow(Duration.seconds(settings.batchingWindowSeconds()))
        .retryAttempts(settings.retryAttempts())
        .maxRecordAge(Duration.seconds(settings.maxRecordAgeSeconds()))
        .bisectBatchOnError(true)
        .reportBatchItemFailures(true)
        .onFailure(new SqsDlq(onFailure))
        // Kafka error handling (retries, bisect, record age, partial batch response) needs provisioned mode.
        .provisionedPollerConfig(ProvisionedPollerConfig.builder()
            .minimumPollers(msk.minimumPollers())
            .maximumPollers(msk.maximumPollers())
            .build())
        .metricsConfig(MetricsConfig.builder()
            .metrics(List.of(MetricType.EVENT_COUNT, MetricType.ERROR_COUNT, MetricType.KAFKA_METRICS))
            .build());
    msk.auth().secretArn().ifPresent(secret -> mapping.sourceAccessConfigurations(List.of(
        SourceAccessConfiguration.builder().type(SourceAccessConfigurationType.SASL_SCRAM_512_AUTH).uri(secret).build())));
    EventSourceMapping created = mapping.build();
    grantMsk(fn, msk);
    return created;
  }

  /**
   * Points the MSK handler's catch-up read-ahead (docs/FANOUT.md) at the cluster, authenticating as its mapping does.
   * Its consumer has no group (assign and seek, nothing committed), so the grants of {@link #grantMsk} cover it:
   * Connect, DescribeTopic and ReadData for IAM; the secret and its key for SASL/SCRAM.
   */
  private MskBootstrapBrokers readAhead(MskSource msk, DockerImageFunction fn) {
    MskBootstrapBrokers brokers = new MskBootstrapBrokers(this, "MskBootstrapBrokers", msk);
    fn.addEnvironment("SPINDRIFT_KAFKA_BOOTSTRAP", brokers.brokers());
    fn.addEnvironment("SPINDRIFT_KAFKA_SECURITY", msk.auth().type().kafkaSecurity());
    msk.auth().secretArn().ifPresent(secret -> fn.addEnvironment("SPINDRIFT_KAFKA_SCRAM_SECRET", secret));
    return brokers;
  }

  private static void grantMsk(DockerImageFunction fn, MskSource msk) {
    fn.addToRolePolicy(statement(
        List.of("kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"), msk.clusterArn()));
    if (msk.auth().type() == MskAuthType.IAM) {
      fn.addToRolePolicy(statement(List.of("kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"), msk.clusterArn()));
      fn.addToRolePolicy(statement(List.of("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"), msk.topicArn()));
      fn.addToRolePolicy(statement(List.of("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"), msk.groupArn()));
    } else {
      fn.addToRolePolicy(statement(List.of("kafka:ListScramSecrets"), msk.clusterArn()));
      fn.addToRolePolicy(statement(List.of("secretsmanager:GetSecretValue"), msk.auth().secretArn().orElseThrow()));
      fn.addToRolePolicy(statement(List.of("kms:Decrypt"), msk.auth().secretKmsKeyArn().orElseThrow()));
    }
    // The mapping's pollers reach the brokers through network interfaces in the cluster's VPC,
    // created with the function's role. Describe* has no resource-level permissions.
    fn.addToRolePolicy(statement(
        List.of("ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"), "*"));
    fn.addToRolePolicy(statement(
        List.of("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"),
        "arn:" + Aws.PARTITION + ":ec2:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":*"));
  }

  private static PolicyStatement statement(List<String> actions, String resource) {
    return PolicyStatement.Builder.create().actions(actions).resources(List.of(resource)).build();
  }

  private static StartingPosition startingPosition(EventSourceSettings settings) {
    return switch (settings.startingPosition()) {
      case LATEST -> StartingPosition.LATEST;
      case TRIM_HORIZON -> StartingPosition.TRIM_HORIZON;
    };
  }
}
