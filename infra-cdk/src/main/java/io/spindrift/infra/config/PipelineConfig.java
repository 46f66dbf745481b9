package io.spindrift.infra.config;

import java.util.List;
import java.util.Optional;

/**
 * Everything one deployed Spindrift app needs, validated: construct it through {@link
 * PipelineConfigReader}, which names the field of any bad value. Values are immutable; a change of
 * configuration is a new {@code cdk deploy}.
 *
 * @param app the app name; namespaces every durable thing (S3 prefixes, table items, metrics)
 * @param job the job: a class name, {@code s3://bucket/key.sql} or {@code classpath:path.sql}
 * @param kinesis the Kinesis source, if any
 * @param msk the MSK source, if any (at least one source is present)
 * @param sink where output lands
 * @param handler sizing of the handler function(s)
 * @param childExecutor sizing of the fan-out child executor function
 * @param eventSource the event-source mapping settings shared by both sources
 * @param runtime settings passed to the runtime as {@code SPINDRIFT_*} variables
 * @param storage expiry of temporary S3 prefixes
 * @param alarms alarm thresholds and the optional SNS topic they notify
 * @param maintenance the scheduled table maintenance (docs/MAINTENANCE.md)
 * @param network the subnets and security groups the MSK handler runs in to reach the brokers, if any
 */
public record PipelineConfig(
    String app,
    String job,
    Optional<KinesisSource> kinesis,
    Optional<MskSource> msk,
    Sink sink,
    FunctionSettings handler,
    FunctionSettings childExecutor,
    EventSourceSettings eventSource,
    RuntimeSettings runtime,
    StorageSettings storage,
    AlarmSettings alarms,
    MaintenanceSettings maintenance,
    Optional<NetworkSettings> network) {

  /**
   * The Kinesis stream: either created by the stack with {@code shardCount} shards, or an existing
   * stream given by ARN. Exactly one of the two is present. With {@code enhancedFanOut} the stack
   * registers a stream consumer ({@code AWS::Kinesis::StreamConsumer} named {@code consumerName},
   * by default {@code spindrift-<app>}) and the mapping reads through it: a dedicated 2 MB/s per
   * shard pushed over SubscribeToShard, instead of the 5 GetRecords per second per shard every
   * reader of the stream shares.
   */
  public record KinesisSource(Optional<Integer> shardCount, Optional<String> streamArn,
      boolean enhancedFanOut, Optional<String> consumerName) {
    public boolean createsStream() {
      return shardCount.isPresent();
    }

    /** The enhanced fan-out consumer's name: {@code consumerName}, or {@code spindrift-<app>}. */
    public String consumerName(String app) {
      return consumerName.orElse("spindrift-" + app);
    }
  }

  /** An existing MSK cluster, the topic to consume and the consumer group Lambda polls with. */
  public record MskSource(
      String clusterArn,
      String topic,
      String consumerGroup,
      MskAuth auth,
      int minimumPollers,
      int maximumPollers) {

    /** The cluster name, the path segment after {@code cluster/} in the ARN. */
    public String clusterName() {
      return clusterArn.split(":cluster/", 2)[1].split("/")[0];
    }

    /** The {@code arn:…:topic/<cluster>/<uuid>/<topic>} ARN used by IAM access control. */
    public String topicArn() {
      return clusterArn.replace(":cluster/", ":topic/") + "/" + topic;
    }

    /** The {@code arn:…:group/<cluster>/<uuid>/<group>} ARN used by IAM access control. */
    public String groupArn() {
      return clusterArn.replace(":cluster/", ":group/") + "/" + consumerGroup;
    }
  }

  /**
   * How Lambda authenticates to the brokers: IAM, or SASL/SCRAM with a Secrets Manager secret
   * (whose name MSK requires to start with {@code AmazonMSK_}) encrypted by a customer key.
   */
  public record MskAuth(MskAuthType type, Optional<String> secretArn, Optional<String> secretKmsKeyArn) {}

  /** Authentication method of the MSK event-source mapping. */
  public enum MskAuthType {
    IAM("iam", 9098),
    SASL_SCRAM("scram", 9096);

    private final String kafkaSecurity;
    private final int brokerPort;

    MskAuthType(String kafkaSecurity, int brokerPort) {
      this.kafkaSecurity = kafkaSecurity;
      this.brokerPort = brokerPort;
    }

    /** The runtime's {@code SPINDRIFT_KAFKA_SECURITY} value that authenticates the same way. */
    public String kafkaSecurity() {
      return kafkaSecurity;
    }

    /** The port MSK's brokers listen on for this authentication (9098 IAM, 9096 SASL/SCRAM). */
    public int brokerPort() {
      return brokerPort;
    }
  }

  /** The sink table, its format and (for Iceberg) the catalog that tracks it. */
  public record Sink(SinkFormat format, String table, CatalogType catalog, Optional<String> catalogUri) {
    /** The namespace (database) part of {@code table}. */
    public String namespace() {
      return table.substring(0, table.lastIndexOf('.'));
    }
  }

  /** Lakehouse table format written by the sinks. */
  public enum SinkFormat {
    ICEBERG,
    DELTA,
    HUDI;

    public String settingValue() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Iceberg catalog implementation. */
  public enum CatalogType {
    DYNAMODB,
    GLUE,
    REST;

    public String settingValue() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Lambda sizing; {@code reservedConcurrency} empty means unreserved. */
  public record FunctionSettings(
      int memoryMb, int timeoutSeconds, int ephemeralStorageMb, Optional<Integer> reservedConcurrency) {}

  /**
   * Event-source mapping settings. {@code parallelizationFactor} is always 1: see DESIGN §5.
   */
  public record EventSourceSettings(
      int batchSize,
      int batchingWindowSeconds,
      int parallelizationFactor,
      int retryAttempts,
      int maxRecordAgeSeconds,
      StartingPosition startingPosition) {}

  /** Where a new event-source mapping starts reading. */
  public enum StartingPosition {
    LATEST,
    TRIM_HORIZON
  }

  /**
   * Runtime settings handed to the functions as environment variables: the state partitions, commit attempts,
   * fan-out to the child-executor function ({@code SPINDRIFT_FANOUT}: off or auto, over {@code fanOutMaxRecords}
   * records a batch), the S3 archive of committed input ({@code SPINDRIFT_ARCHIVE}) and catch-up read-ahead of the
   * committing handlers ({@code SPINDRIFT_READ_AHEAD}; for MSK also the brokers and how to authenticate to them).
   */
  public record RuntimeSettings(int shufflePartitions, int maxCommitAttempts, FanOutMode fanOut, int fanOutMaxRecords,
      boolean archive, boolean readAhead) {}

  /** When the handlers fan a batch out to the child-executor function (docs/FANOUT.md). */
  public enum FanOutMode {
    OFF,
    AUTO
  }

  /**
   * Days after which objects under {@code <app>/shuffle/} expire; the archive's own lifecycle: to S3 Standard-IA
   * after {@code archiveInfrequentAccessDays}, expired after {@code archiveExpiryDays} (0: kept, the archive is there
   * to outlive the stream's retention). {@code <app>/stage/} has no expiry: unpublished commits reference objects
   * there, and the maintenance run deletes only those of published commits (DESIGN §5, I7; docs/MAINTENANCE.md).
   */
  public record StorageSettings(int shuffleExpiryDays, int archiveInfrequentAccessDays, int archiveExpiryDays) {}

  /**
   * The scheduled table maintenance function ({@code MaintenanceHandler}): whether its EventBridge rule is enabled,
   * how often it runs, and the function's sizing (compaction is a Spark job: give it memory and time).
   */
  public record MaintenanceSettings(boolean enabled, int rateMinutes, FunctionSettings function) {}

  /**
   * Alarm thresholds: Kinesis iterator age, MSK offset lag (records), commit conflicts per five
   * minutes. {@code topicArn}, if present, receives alarm and OK notifications.
   */
  public record AlarmSettings(
      int iteratorAgeSeconds, long offsetLagRecords, int commitConflictsPer5Min, Optional<String> topicArn) {}

  /**
   * The cluster's network, for the functions that must reach the MSK brokers (catch-up read-ahead's Kafka consumer):
   * the MSK handler runs in {@code subnetIds} with {@code securityGroupIds}. With {@code clusterSecurityGroupId} the
   * stack lets those groups in on the brokers' port for the source's authentication. {@code gatewayEndpoints} (on by
   * default, free) adds S3 and DynamoDB gateway endpoints to {@code routeTableIds}; {@code interfaceEndpoints} (off by
   * default, billed per hour and AZ) adds interface endpoints for the other AWS APIs the handler calls (Lambda, and
   * Secrets Manager or Glue when the config uses them); without them the subnets need a NAT route.
   */
  public record NetworkSettings(
      String vpcId,
      List<String> subnetIds,
      List<String> securityGroupIds,
      Optional<String> clusterSecurityGroupId,
      boolean gatewayEndpoints,
      List<String> routeTableIds,
      boolean interfaceEndpoints) {}
}
