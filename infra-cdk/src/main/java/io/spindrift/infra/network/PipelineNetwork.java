package io.spindrift.infra.network;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfig.CatalogType;
import io.spindrift.infra.config.PipelineConfig.FanOutMode;
import io.spindrift.infra.config.PipelineConfig.MskAuthType;
import io.spindrift.infra.config.PipelineConfig.MskSource;
import io.spindrift.infra.config.PipelineConfig.NetworkSettings;
import io.spindrift.infra.config.PipelineConfig.SinkFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.services.ec2.CfnSecurityGroup;
import software.amazon.awscdk.services.ec2.CfnSecurityGroupIngress;
import software.amazon.awscdk.services.ec2.CfnVPCEndpoint;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.lambda.CfnFunction;
import software.amazon.awscdk.services.lambda.DockerImageFunction;
import software.amazon.awscdk.services.lambda.IFunction;
import software.constructs.Construct;

/**
 * The MSK cluster's network, for the function that reads from its brokers (the MSK handler's catch-up read-ahead,
 * docs/FANOUT.md): the subnets and security groups it runs in, the rule that lets those groups reach the brokers, and
 * the VPC endpoints through which a function in private subnets reaches the AWS APIs it calls. Everything is given
 * by id, never looked up, so synth needs no AWS account; ids that do not exist fail the deployment in CloudFormation,
 * naming them. A placed function's role gets the network-interface actions of {@code AWSLambdaVPCAccessExecutionRole}
 * as inline statements (the stack attaches no managed policies).
 */
public final class PipelineNetwork extends Construct {
  private final NetworkSettings settings;
  private final List<CfnSecurityGroupIngress> brokerIngress;
  private final Map<String, CfnVPCEndpoint> endpoints = new LinkedHashMap<>();

  public PipelineNetwork(Construct scope, String id, PipelineConfig config) {
    super(scope, id);
    this.settings = config.network().orElseThrow();
    MskSource msk = config.msk().orElseThrow();
    this.brokerIngress = settings.clusterSecurityGroupId()
        .map(cluster -> brokerIngress(cluster, msk.auth().type()))
        .orElse(List.of());
    if (settings.gatewayEndpoints()) {
      gatewayEndpoint("S3GatewayEndpoint", "s3");
      gatewayEndpoint("DynamoDbGatewayEndpoint", "dynamodb");
    }
    if (settings.interfaceEndpoints()) {
      CfnSecurityGroup endpointGroup = endpointSecurityGroup();
      interfaceServices(config).forEach(service -> interfaceEndpoint(service, endpointGroup));
    } else {
      warnAboutPublicApis(config);
    }
  }

  /** The ingress rules on the cluster's security group (empty without {@code network.clusterSecurityGroupId}). */
  public List<CfnSecurityGroupIngress> brokerIngress() {
    return brokerIngress;
  }

  /** The VPC endpoints the stack creates, by service ({@code s3}, {@code dynamodb}, {@code lambda}, …). */
  public Map<String, CfnVPCEndpoint> endpoints() {
    return Map.copyOf(endpoints);
  }

  /**
   * Runs {@code fn} in the configured subnets with the configured security groups, and lets its role manage the
   * function's network interfaces ({@link #grantNetworkInterfaces}). The function's {@code VpcConfig} is set on its
   * CloudFormation resource: the construct's {@code vpc} property wants an {@code IVpc} whose availability zones are
   * known, which only a lookup (an AWS account at synth) or invented zones would give.
   */
  public void place(DockerImageFunction fn) {
    ((CfnFunction) fn.getNode().getDefaultChild()).setVpcConfig(CfnFunction.VpcConfigProperty.builder()
        .subnetIds(settings.subnetIds())
        .securityGroupIds(settings.securityGroupIds())
        .build());
    grantNetworkInterfaces(fn);
  }

  /**
   * Lets a placed function's role manage its network interfaces: the EC2 actions of
   * {@code AWSLambdaVPCAccessExecutionRole}, Describe* on "*" (they have no resource-level permissions), the others on
   * the account's EC2 resources in the stack's region (the scope AWS documents for DeleteNetworkInterface). Lambda
   * checks them when it creates the function; the function's resource depends on the role and its policy.
   */
  static void grantNetworkInterfaces(IFunction fn) {
    fn.addToRolePolicy(PolicyStatement.Builder.create()
        .actions(List.of("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"))
        .resources(List.of("*"))
        .build());
    fn.addToRolePolicy(PolicyStatement.Builder.create()
        .actions(List.of("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses"))
        .resources(List.of("arn:" + Aws.PARTITION + ":ec2:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":*/*"))
        .build());
  }

  /**
   * The AWS APIs, besides S3 and DynamoDB, that the MSK handler cannot do without: Lambda when batches fan out
   * (the children's invokes), Secrets Manager when read-ahead authenticates with SCRAM (its secret), Glue for an
   * Iceberg sink on the Glue catalog (every commit).
   */
  static List<String> requiredServices(PipelineConfig config) {
    List<String> services = new ArrayList<>();
    if (config.runtime().fanOut() == FanOutMode.AUTO) {
      services.add("lambda");
    }
    if (config.runtime().readAhead() && config.msk().orElseThrow().auth().type() == MskAuthType.SASL_SCRAM) {
      services.add("secretsmanager");
    }
    if (config.sink().format() == SinkFormat.ICEBERG && config.sink().catalog() == CatalogType.GLUE) {
      services.add("glue");
    }
    return services;
  }

  /**
   * The interface endpoints {@code network.interfaceEndpoints} creates: Lambda always (the cold-start check of the
   * function's own event-source mappings calls it too), then the {@link #requiredServices} that remain.
   */
  private static List<String> interfaceServices(PipelineConfig config) {
    List<String> services = new ArrayList<>(List.of("lambda"));
    requiredServices(config).stream().filter(s -> !services.contains(s)).forEach(services::add);
    return services;
  }

  private List<CfnSecurityGroupIngress> brokerIngress(String clusterGroup, MskAuthType auth) {
    List<CfnSecurityGroupIngress> rules = new ArrayList<>();
    for (String group : settings.securityGroupIds()) {
      rules.add(CfnSecurityGroupIngress.Builder.create(this, "BrokerIngress-" + group)
          .groupId(clusterGroup)
          .ipProtocol("tcp")
          .fromPort(auth.brokerPort())
          .toPort(auth.brokerPort())
          .sourceSecurityGroupId(group)
          .description("Spindrift MSK handler (" + group + ") to the brokers' " + auth + " port")
          .build());
    }
    return rules;
  }

  private void gatewayEndpoint(String id, String service) {
    endpoints.put(service, CfnVPCEndpoint.Builder.create(this, id)
        .vpcId(settings.vpcId())
        .serviceName(serviceName(service))
        .vpcEndpointType("Gateway")
        .routeTableIds(settings.routeTableIds())
        .build());
  }

  /** Admits HTTPS from the functions' security groups, and nothing else, to the interface endpoints. */
  private CfnSecurityGroup endpointSecurityGroup() {
    return CfnSecurityGroup.Builder.create(this, "EndpointSecurityGroup")
        .vpcId(settings.vpcId())
        .groupDescription("Spindrift interface endpoints: HTTPS from the MSK handler's security groups")
        .securityGroupIngress(settings.securityGroupIds().stream()
            .map(group -> CfnSecurityGroup.IngressProperty.builder()
                .ipProtocol("tcp").fromPort(443).toPort(443).sourceSecurityGroupId(group)
                .description("HTTPS from " + group)
                .build())
            .toList())
        .build();
  }

  private void interfaceEndpoint(String service, CfnSecurityGroup endpointGroup) {
    endpoints.put(service, CfnVPCEndpoint.Builder.create(this, interfaceEndpointId(service))
        .vpcId(settings.vpcId())
        .serviceName(serviceName(service))
        .vpcEndpointType("Interface")
        .subnetIds(settings.subnetIds())
        .securityGroupIds(List.of(endpointGroup.getAttrGroupId()))
        // The SDK's default endpoint names resolve to the endpoint: no client configuration changes.
        .privateDnsEnabled(true)
        .build());
  }

  private void warnAboutPublicApis(PipelineConfig config) {
    List<String> required = requiredServices(config);
    if (required.isEmpty()) {
      return;
    }
    Annotations.of(this).addWarningV2("spindrift:network-public-apis", "The MSK handler runs in network.subnetIds"
        + " and calls " + String.join(", ", required) + " (" + reasons(required) + ") through public AWS endpoints:"
        + " the subnets need a route to a NAT gateway, or set network.interfaceEndpoints to true"
        + " (infra-cdk/README.md, Network). Ignore this if they have one.");
  }

  private static String reasons(List<String> services) {
    Map<String, String> why = Map.of(
        "lambda", "fan-out invokes its children",
        "secretsmanager", "read-ahead reads the SCRAM secret",
        "glue", "the Iceberg sink commits to the Glue catalog");
    return String.join("; ", services.stream().map(why::get).toList());
  }

  private static String interfaceEndpointId(String service) {
    return switch (service) {
      case "lambda" -> "LambdaEndpoint";
      case "secretsmanager" -> "SecretsManagerEndpoint";
      case "glue" -> "GlueEndpoint";
      default -> throw new IllegalArgumentException("No interface endpoint for " + service);
    };
  }

  private static String serviceName(String service) {
    return "com.amazonaws." + Aws.REGION + "." + service;
  }
}
