package io.spindrift.infra.source;

import io.spindrift.infra.config.PipelineConfig.MskAuthType;
import io.spindrift.infra.config.PipelineConfig.MskSource;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.customresources.AwsCustomResource;
import software.amazon.awscdk.customresources.AwsCustomResourcePolicy;
import software.amazon.awscdk.customresources.AwsSdkCall;
import software.amazon.awscdk.customresources.PhysicalResourceId;
import software.amazon.awscdk.customresources.SdkCallsPolicyOptions;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.constructs.Construct;

/**
 * The MSK cluster's bootstrap brokers for the source's authentication, resolved at deploy time: a custom resource
 * calls Kafka's {@code GetBootstrapBrokers} on the cluster (allowed on that cluster only) when it is created or the
 * cluster ARN or authentication changes. Catch-up read-ahead's Kafka consumer connects to them
 * ({@code SPINDRIFT_KAFKA_BOOTSTRAP}, docs/FANOUT.md). The provider function gets its own role and log group, so no
 * managed policy is attached; a failed call fails the deployment, naming the cluster.
 */
public final class MskBootstrapBrokers extends Construct {
  private final String brokers;

  public MskBootstrapBrokers(Construct scope, String id, MskSource msk) {
    super(scope, id);
    String field = responseField(msk.auth().type());
    AwsSdkCall call = AwsSdkCall.builder()
        .service("Kafka")
        .action("getBootstrapBrokers")
        .parameters(Map.of("ClusterArn", msk.clusterArn()))
        .physicalResourceId(PhysicalResourceId.of(msk.clusterArn() + "#" + field))
        .outputPaths(List.of(field))
        .build();
    LogGroup logs = LogGroup.Builder.create(this, "ProviderLogs")
        .retention(RetentionDays.ONE_MONTH)
        .removalPolicy(RemovalPolicy.DESTROY)
        .build();
    AwsCustomResource resource = AwsCustomResource.Builder.create(this, "Lookup")
        .onCreate(call)
        .onUpdate(call)
        .policy(AwsCustomResourcePolicy.fromSdkCalls(SdkCallsPolicyOptions.builder()
            .resources(List.of(msk.clusterArn()))
            .build()))
        .role(providerRole(logs))
        .logGroup(logs)
        // Lambda's built-in SDK has the Kafka client; installing the latest would need npm at deploy time.
        .installLatestAwsSdk(false)
        .build();
    this.brokers = resource.getResponseField(field);
  }

  /** The comma-separated {@code host:port} list (a deploy-time token). */
  public String brokers() {
    return brokers;
  }

  /** The {@code GetBootstrapBrokers} response field that lists the brokers' port for {@code type}. */
  static String responseField(MskAuthType type) {
    return switch (type) {
      case IAM -> "BootstrapBrokerStringSaslIam";
      case SASL_SCRAM -> "BootstrapBrokerStringSaslScram";
    };
  }

  /**
   * The provider function's role: it may write to {@code logs}; the custom resource adds its scoped
   * {@code kafka:GetBootstrapBrokers} statement. The default role would carry the managed
   * AWSLambdaBasicExecutionRole policy.
   */
  private Role providerRole(LogGroup logs) {
    Role role = Role.Builder.create(this, "ProviderRole")
        .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
        .description("Resolves the MSK bootstrap brokers for catch-up read-ahead (least privilege)")
        .build();
    role.addToPolicy(PolicyStatement.Builder.create()
        .actions(List.of("logs:CreateLogStream", "logs:PutLogEvents"))
        .resources(List.of(logs.getLogGroupArn()))
        .build());
    return role;
  }
}
