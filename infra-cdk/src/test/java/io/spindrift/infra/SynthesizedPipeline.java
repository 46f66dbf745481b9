package io.spindrift.infra;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfigReader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Template;

/**
 * Synthesizes each test configuration once per test JVM (synth starts jsii and takes seconds) and
 * shares the resulting {@link Template} across test classes.
 */
final class SynthesizedPipeline {
  /** Both sources (a created stream, MSK with IAM), Iceberg on the DynamoDB catalog. */
  static final String FULL = """
      {
        "app": "clickstream",
        "job": "com.example.jobs.Clickstream",
        "kinesis": {"shardCount": 4},
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2",
          "topic": "page-views",
          "consumerGroup": "spindrift-clickstream",
          "auth": {"type": "IAM"},
          "minimumPollers": 2,
          "maximumPollers": 20
        },
        "sink": {"format": "iceberg", "table": "analytics.page_views"},
        "handler": {"memoryMb": 6144, "timeoutSeconds": 600, "ephemeralStorageMb": 4096, "reservedConcurrency": 8},
        "childExecutor": {"memoryMb": 3008, "timeoutSeconds": 300, "ephemeralStorageMb": 1024},
        "eventSource": {"batchSize": 2000, "batchingWindowSeconds": 2, "parallelizationFactor": 1,
                        "retryAttempts": 5, "maxRecordAgeSeconds": 3600, "startingPosition": "TRIM_HORIZON"},
        "runtime": {"shufflePartitions": 16, "maxCommitAttempts": 7, "fanOut": "auto", "fanOutMaxRecords": 20000,
          "archive": true},
        "storage": {"shuffleExpiryDays": 1},
        "maintenance": {"rateMinutes": 30},
        "alarms": {"iteratorAgeSeconds": 120, "commitConflictsPer5Min": 25,
                   "topicArn": "arn:aws:sns:eu-west-1:111122223333:oncall"}
      }
      """;

  /** An existing stream, MSK with SASL/SCRAM, Delta; everything else defaulted. */
  static final String EXISTING_STREAM_SCRAM_DELTA = """
      {
        "app": "orders",
        "job": "s3://jobs-bucket/orders/job.sql",
        "kinesis": {"streamArn": "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"},
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/orders/0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff-1",
          "topic": "orders",
          "consumerGroup": "spindrift-orders",
          "auth": {"type": "SASL_SCRAM",
                   "secretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf",
                   "secretKmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
        },
        "sink": {"format": "delta", "table": "sales.orders"}
      }
      """;

  /** Kinesis only, Iceberg on Glue. */
  static final String KINESIS_GLUE = """
      {
        "app": "metrics",
        "job": "classpath:jobs/metrics.sql",
        "kinesis": {"shardCount": 1},
        "sink": {"format": "iceberg", "table": "ops.metrics", "catalog": "glue"}
      }
      """;

  /** Kinesis only, read through an enhanced fan-out consumer the stack registers; Iceberg on DynamoDB. */
  static final String KINESIS_ENHANCED_FAN_OUT = """
      {
        "app": "fanout",
        "job": "io.spindrift.examples.Clickstream",
        "kinesis": {"shardCount": 2, "enhancedFanOut": true},
        "sink": {"format": "iceberg", "table": "analytics.fanout"}
      }
      """;

  /** Both sources (MSK with IAM) with catch-up read-ahead on; everything else defaulted. */
  static final String READ_AHEAD_IAM = """
      {
        "app": "catchup",
        "job": "io.spindrift.examples.Clickstream",
        "kinesis": {"shardCount": 1},
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2",
          "topic": "page-views",
          "consumerGroup": "spindrift-catchup",
          "auth": {"type": "IAM"}
        },
        "sink": {"format": "iceberg", "table": "analytics.page_views"},
        "runtime": {"readAhead": true}
      }
      """;

  /** MSK only, with SASL/SCRAM, and catch-up read-ahead on; everything else defaulted. */
  static final String READ_AHEAD_SCRAM = """
      {
        "app": "orders",
        "job": "s3://jobs-bucket/orders/job.sql",
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/orders/0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff-1",
          "topic": "orders",
          "consumerGroup": "spindrift-orders",
          "auth": {"type": "SASL_SCRAM",
                   "secretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf",
                   "secretKmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
        },
        "sink": {"format": "delta", "table": "sales.orders"},
        "runtime": {"readAhead": true}
      }
      """;

  /**
   * Both sources, MSK with IAM, read-ahead and fan-out on, the MSK handler in the cluster's network with every
   * network option: the cluster's security group, gateway endpoints on two route tables, interface endpoints.
   */
  static final String NETWORK_IAM = """
      {
        "app": "private",
        "job": "io.spindrift.examples.Clickstream",
        "kinesis": {"shardCount": 1},
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2",
          "topic": "page-views",
          "consumerGroup": "spindrift-private",
          "auth": {"type": "IAM"}
        },
        "sink": {"format": "iceberg", "table": "analytics.page_views"},
        "runtime": {"readAhead": true, "fanOut": "auto"},
        "network": {
          "vpcId": "vpc-0a1b2c3d4e5f60718",
          "subnetIds": ["subnet-0aaa1111bbbb22223", "subnet-0aaa1111bbbb22224"],
          "securityGroupIds": ["sg-0fff1111eeee22223", "sg-0fff1111eeee22224"],
          "clusterSecurityGroupId": "sg-0c1c1c1c1c1c1c1c1",
          "routeTableIds": ["rtb-0d1d1d1d1d1d1d1d1", "rtb-0d1d1d1d1d1d1d1d2"],
          "interfaceEndpoints": true
        }
      }
      """;

  /**
   * MSK only with SASL/SCRAM and read-ahead on, in the cluster's network with the cluster's security group and no
   * endpoints (the subnets are meant to route through a NAT gateway).
   */
  static final String NETWORK_SCRAM_NO_ENDPOINTS = """
      {
        "app": "orders",
        "job": "s3://jobs-bucket/orders/job.sql",
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/orders/0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff-1",
          "topic": "orders",
          "consumerGroup": "spindrift-orders",
          "auth": {"type": "SASL_SCRAM",
                   "secretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf",
                   "secretKmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
        },
        "sink": {"format": "delta", "table": "sales.orders"},
        "runtime": {"readAhead": true},
        "network": {"vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"],
                    "clusterSecurityGroupId": "sg-0c1c1c1c", "gatewayEndpoints": false}
      }
      """;

  /** MSK with IAM, read-ahead off, in the cluster's network with nothing else: no rule, no endpoint. */
  static final String NETWORK_BARE = """
      {
        "app": "bare",
        "job": "io.spindrift.examples.Clickstream",
        "msk": {
          "clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2",
          "topic": "page-views",
          "consumerGroup": "spindrift-bare",
          "auth": {"type": "IAM"}
        },
        "sink": {"format": "iceberg", "table": "analytics.page_views"},
        "network": {"vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"],
                    "gatewayEndpoints": false}
      }
      """;

  private static final Map<String, SpindriftPipelineStack> STACKS = new HashMap<>();
  private static final Map<String, Template> TEMPLATES = new HashMap<>();

  private SynthesizedPipeline() {}

  static synchronized Template template(String configJson) {
    return TEMPLATES.computeIfAbsent(configJson, json -> Template.fromStack(synthesized(json)));
  }

  /** The synth-time messages (warnings, errors) of the configuration's stack. */
  static synchronized Annotations annotations(String configJson) {
    return Annotations.fromStack(synthesized(configJson));
  }

  private static synchronized SpindriftPipelineStack synthesized(String configJson) {
    return STACKS.computeIfAbsent(configJson, json -> stack(PipelineConfigReader.fromJson(json)));
  }

  /** A fresh stack (not cached) for tests that synthesize configurations of their own. */
  static SpindriftPipelineStack stack(PipelineConfig config) {
    // Assets are fingerprinted but not copied: the image directory may hold a large jar.
    App app = new App(AppProps.builder().context(Map.of("aws:cdk:disable-asset-staging", true)).build());
    return new SpindriftPipelineStack(app, "Spindrift-" + config.app(), StackProps.builder()
        .env(Environment.builder().account("111122223333").region("eu-west-1").build())
        .build(), config, imageDirectory());
  }

  /** The module directory, from Maven (surefire) or the working directory. */
  static Path moduleDir() {
    return Path.of(System.getProperty("spindrift.module.dir", ".")).toAbsolutePath().normalize();
  }

  static Path imageDirectory() {
    return moduleDir().resolve("image");
  }
}
