package io.spindrift.infra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.infra.config.PipelineConfig.CatalogType;
import io.spindrift.infra.config.PipelineConfig.MskAuthType;
import io.spindrift.infra.config.PipelineConfig.NetworkSettings;
import io.spindrift.infra.config.PipelineConfig.SinkFormat;
import io.spindrift.infra.config.PipelineConfig.StartingPosition;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PipelineConfigReaderTest {
  private static final String MINIMAL = """
      {"app": "clicks", "job": "com.example.Clicks", "kinesis": {"shardCount": 2},
       "sink": {"format": "iceberg", "table": "analytics.clicks"}}
      """;

  @Test
  void minimalConfigGetsDefaultsThatMatchTheDesign() {
    PipelineConfig config = PipelineConfigReader.fromJson(MINIMAL);

    assertThat(config.app()).isEqualTo("clicks");
    assertThat(config.kinesis()).get().satisfies(k -> assertThat(k.shardCount()).contains(2));
    assertThat(config.msk()).isEmpty();
    assertThat(config.sink().catalog()).isEqualTo(CatalogType.DYNAMODB);
    assertThat(config.eventSource().parallelizationFactor()).isEqualTo(1);
    assertThat(config.eventSource().startingPosition()).isEqualTo(StartingPosition.TRIM_HORIZON);
    assertThat(config.handler().reservedConcurrency()).isEmpty();
    assertThat(config.storage().shuffleExpiryDays()).isEqualTo(1);
    assertThat(config.runtime().readAhead()).as("catch-up read-ahead is off by default").isFalse();
  }

  @Test
  void parallelizationFactorAboveOneIsRefusedWithTheReason() {
    String json = MINIMAL.replace("\"sink\"", "\"eventSource\": {\"parallelizationFactor\": 2}, \"sink\"");

    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json))
        .isInstanceOfSatisfying(InvalidPipelineConfigException.class,
            e -> assertThat(e.field()).isEqualTo("eventSource.parallelizationFactor"))
        .hasMessageContaining("eventSource.parallelizationFactor")
        .hasMessageContaining("DESIGN §5")
        .hasMessageContaining("interleave")
        .hasMessageContaining("more shards");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      app                                  | "app": "Clicks"                                   | app
      memory above Lambda's limit          | "handler": {"memoryMb": 20000}                    | handler.memoryMb
      timeout above 15 minutes             | "handler": {"timeoutSeconds": 901}                | handler.timeoutSeconds
      ephemeral storage below 512 MB       | "childExecutor": {"ephemeralStorageMb": 100}      | childExecutor.ephemeralStorageMb
      reserved concurrency zero            | "handler": {"reservedConcurrency": 0}             | handler.reservedConcurrency
      batch size above 10000               | "eventSource": {"batchSize": 10001}               | eventSource.batchSize
      batching window above 300 s          | "eventSource": {"batchingWindowSeconds": 301}     | eventSource.batchingWindowSeconds
      negative retries                     | "eventSource": {"retryAttempts": -1}              | eventSource.retryAttempts
      record age below 60 s                | "eventSource": {"maxRecordAgeSeconds": 30}        | eventSource.maxRecordAgeSeconds
      unknown starting position            | "eventSource": {"startingPosition": "AT_NOON"}    | eventSource.startingPosition
      parallelization factor zero          | "eventSource": {"parallelizationFactor": 0}       | eventSource.parallelizationFactor
      misspelt field                       | "eventSource": {"batchsize": 10}                  | eventSource.batchsize
      unknown top-level field              | "region": "eu-west-1"                             | region
      shuffle partitions zero              | "runtime": {"shufflePartitions": 0}               | runtime.shufflePartitions
      bad alarm topic                      | "alarms": {"topicArn": "oncall"}                  | alarms.topicArn
      unknown fan-out mode                 | "runtime": {"fanOut": "sometimes"}                | runtime.fanOut
      archive switch not a boolean         | "runtime": {"archive": "yes"}                     | runtime.archive
      read-ahead switch not a boolean      | "runtime": {"readAhead": "on"}                    | runtime.readAhead
      archive expiring before Standard-IA  | "storage": {"archiveExpiryDays": 10}              | storage.archiveExpiryDays
      """)
  void badValueIsRefusedNamingTheField(String description, String fragment, String field) {
    String json = MINIMAL.replaceFirst("\\{", "{" + fragment + ",")
        .replace("\"app\": \"clicks\", ", fragment.startsWith("\"app\"") ? "" : "\"app\": \"clicks\", ");

    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json))
        .isInstanceOfSatisfying(InvalidPipelineConfigException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageContaining("'" + field + "'");
  }

  @Test
  void aSourceIsRequired() {
    String json = """
        {"app": "clicks", "job": "com.example.Clicks", "sink": {"format": "delta", "table": "a.b"}}""";
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json)).hasMessageContaining("at least one source");
  }

  @Test
  void kinesisTakesEitherAShardCountOrAStreamArn() {
    String both = MINIMAL.replace("{\"shardCount\": 2}",
        "{\"shardCount\": 2, \"streamArn\": \"arn:aws:kinesis:eu-west-1:111122223333:stream/s\"}");
    String neither = MINIMAL.replace("{\"shardCount\": 2}", "{}");
    String badArn = MINIMAL.replace("{\"shardCount\": 2}", "{\"streamArn\": \"arn:aws:sqs:eu-west-1:111122223333:q\"}");

    assertThatThrownBy(() -> PipelineConfigReader.fromJson(both)).hasMessageContaining("kinesis.shardCount").hasMessageContaining("exactly one");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(neither)).hasMessageContaining("exactly one");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(badArn)).hasMessageContaining("kinesis.streamArn");
  }

  @Test
  void kinesisReadsThroughAnEnhancedFanOutConsumerOnlyWhenAskedNamedAfterTheAppByDefault() {
    PipelineConfig plain = PipelineConfigReader.fromJson(MINIMAL);
    PipelineConfig efo = PipelineConfigReader.fromJson(
        MINIMAL.replace("{\"shardCount\": 2}", "{\"shardCount\": 2, \"enhancedFanOut\": true}"));
    PipelineConfig named = PipelineConfigReader.fromJson(MINIMAL.replace("{\"shardCount\": 2}",
        "{\"streamArn\": \"arn:aws:kinesis:eu-west-1:111122223333:stream/s\", \"enhancedFanOut\": true,"
            + " \"consumerName\": \"clicks-efo.v2\"}"));

    assertThat(plain.kinesis().orElseThrow().enhancedFanOut()).isFalse();
    assertThat(efo.kinesis().orElseThrow().enhancedFanOut()).isTrue();
    assertThat(efo.kinesis().orElseThrow().consumerName("clicks")).isEqualTo("spindrift-clicks");
    assertThat(named.kinesis().orElseThrow().consumerName("clicks")).isEqualTo("clicks-efo.v2");
  }

  @Test
  void enhancedFanOutFieldsAreChecked() {
    String notBoolean = MINIMAL.replace("{\"shardCount\": 2}", "{\"shardCount\": 2, \"enhancedFanOut\": \"yes\"}");
    String nameWithoutFanOut = MINIMAL.replace("{\"shardCount\": 2}",
        "{\"shardCount\": 2, \"consumerName\": \"c\"}");
    String badName = MINIMAL.replace("{\"shardCount\": 2}",
        "{\"shardCount\": 2, \"enhancedFanOut\": true, \"consumerName\": \"has space\"}");
    String typo = MINIMAL.replace("{\"shardCount\": 2}", "{\"shardCount\": 2, \"enhancedFanout\": true}");

    assertThatThrownBy(() -> PipelineConfigReader.fromJson(notBoolean))
        .hasMessageContaining("kinesis.enhancedFanOut").hasMessageContaining("true or false");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(nameWithoutFanOut))
        .hasMessageContaining("kinesis.consumerName").hasMessageContaining("enhancedFanOut");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(badName)).hasMessageContaining("kinesis.consumerName");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(typo)).hasMessageContaining("enhancedFanout");
  }

  @Test
  void mskScramNeedsAnAmazonMskSecretAndItsKey() {
    String msk = """
        "msk": {"clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/c/abc-1", "topic": "t",
                "consumerGroup": "g", "auth": AUTH},""";
    String noSecret = MINIMAL.replace("\"sink\"", msk.replace("AUTH", "{\"type\": \"SASL_SCRAM\"}") + "\"sink\"");
    String wrongPrefix = MINIMAL.replace("\"sink\"", msk.replace("AUTH",
        "{\"type\": \"SASL_SCRAM\", \"secretArn\": \"arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-AbC\","
            + " \"secretKmsKeyArn\": \"arn:aws:kms:eu-west-1:111122223333:key/k1\"}") + "\"sink\"");
    String iamWithSecret = MINIMAL.replace("\"sink\"", msk.replace("AUTH",
        "{\"type\": \"IAM\", \"secretArn\": \"arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_x\"}") + "\"sink\"");
    String iam = MINIMAL.replace("\"sink\"", msk.replace("AUTH", "{\"type\": \"iam\"}") + "\"sink\"");

    assertThatThrownBy(() -> PipelineConfigReader.fromJson(noSecret)).hasMessageContaining("'msk.auth.secretArn'");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(wrongPrefix))
        .hasMessageContaining("'msk.auth.secretArn'").hasMessageContaining("AmazonMSK_");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(iamWithSecret)).hasMessageContaining("'msk.auth.secretArn'");
    PipelineConfig config = PipelineConfigReader.fromJson(iam);
    assertThat(config.msk()).get().satisfies(m -> {
      assertThat(m.auth().type()).isEqualTo(MskAuthType.IAM);
      assertThat(m.topicArn()).isEqualTo("arn:aws:kafka:eu-west-1:111122223333:topic/c/abc-1/t");
      assertThat(m.groupArn()).isEqualTo("arn:aws:kafka:eu-west-1:111122223333:group/c/abc-1/g");
    });
  }

  @Test
  void restCatalogNeedsItsUri() {
    String json = MINIMAL.replace("\"table\": \"analytics.clicks\"}", "\"table\": \"analytics.clicks\", \"catalog\": \"rest\"}");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json)).hasMessageContaining("'sink.catalogUri'");
  }

  @Test
  void sinkTableMustBeNamespaceDotTable() {
    String json = MINIMAL.replace("analytics.clicks", "clicks");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json)).hasMessageContaining("'sink.table'");
  }

  @Test
  void sinkFormatIsOneOfTheThree() {
    String json = MINIMAL.replace("\"iceberg\"", "\"parquet\"");
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json))
        .hasMessageContaining("'sink.format'").hasMessageContaining("ICEBERG, DELTA, HUDI");
    assertThat(PipelineConfigReader.fromJson(MINIMAL.replace("\"iceberg\"", "\"HUDI\"")).sink().format()).isEqualTo(SinkFormat.HUDI);
  }

  @Test
  void readsAFileAndAContextObject(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pipeline.json");
    Files.writeString(file, MINIMAL);
    assertThat(PipelineConfigReader.fromFile(file).app()).isEqualTo("clicks");
    assertThat(PipelineConfigReader.fromContextValue(java.util.Map.of(
        "app", "ctx", "job", "com.example.Ctx", "kinesis", java.util.Map.of("shardCount", 1),
        "sink", java.util.Map.of("format", "delta", "table", "a.b"))).app()).isEqualTo("ctx");
  }

  @Test
  void malformedJsonIsReported() {
    assertThatThrownBy(() -> PipelineConfigReader.fromJson("{\"app\": ")).hasMessageContaining("not valid JSON");
  }

  private static final String MSK_IAM = """
      {"app": "clicks", "job": "com.example.Clicks",
       "msk": {"clusterArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2",
               "topic": "clicks", "consumerGroup": "spindrift-clicks", "auth": {"type": "IAM"}},
       "sink": {"format": "iceberg", "table": "analytics.clicks"}%s}
      """;
  private static final String NETWORK = """
      "vpcId": "vpc-0a1b2c3d4e5f60718", "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
      "securityGroupIds": ["sg-0a1b2c3d4e5f60718"]""";

  private static PipelineConfig withNetwork(String network) {
    return PipelineConfigReader.fromJson(MSK_IAM.formatted(", \"network\": {" + network + "}"));
  }

  @Test
  void withoutANetworkTheHandlerIsPlacedNowhere() {
    assertThat(PipelineConfigReader.fromJson(MSK_IAM.formatted("")).network()).isEmpty();
  }

  @Test
  void networkDefaultsToFreeGatewayEndpointsAndNoInterfaceEndpoints() {
    NetworkSettings network = withNetwork(NETWORK + ", \"routeTableIds\": [\"rtb-0a1b2c3d\"]").network().orElseThrow();

    assertThat(network.vpcId()).isEqualTo("vpc-0a1b2c3d4e5f60718");
    assertThat(network.subnetIds()).containsExactly("subnet-0a1b2c3d", "subnet-0a1b2c3e");
    assertThat(network.securityGroupIds()).containsExactly("sg-0a1b2c3d4e5f60718");
    assertThat(network.clusterSecurityGroupId()).isEmpty();
    assertThat(network.gatewayEndpoints()).isTrue();
    assertThat(network.routeTableIds()).containsExactly("rtb-0a1b2c3d");
    assertThat(network.interfaceEndpoints()).isFalse();
  }

  @Test
  void withoutGatewayEndpointsNoRouteTablesAreNeeded() {
    NetworkSettings network = withNetwork(NETWORK + ", \"gatewayEndpoints\": false, \"interfaceEndpoints\": true,"
        + " \"clusterSecurityGroupId\": \"sg-0123abcd\"").network().orElseThrow();

    assertThat(network.gatewayEndpoints()).isFalse();
    assertThat(network.routeTableIds()).isEmpty();
    assertThat(network.interfaceEndpoints()).isTrue();
    assertThat(network.clusterSecurityGroupId()).contains("sg-0123abcd");
  }

  @Test
  void brokerPortFollowsTheAuthentication() {
    assertThat(MskAuthType.IAM.brokerPort()).isEqualTo(9098);
    assertThat(MskAuthType.SASL_SCRAM.brokerPort()).isEqualTo(9096);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      unknown field                  | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false, "natGateway": true | network.natGateway                 | allowed here
      VPC missing                    | "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false                                            | network.vpcId                      | is required
      VPC id not an id               | "vpcId": "my-vpc", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false                         | network.vpcId                      | vpc-
      subnets missing                | "vpcId": "vpc-0a1b2c3d", "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false                                                     | network.subnetIds                  | is required
      subnets empty                  | "vpcId": "vpc-0a1b2c3d", "subnetIds": [], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false                                    | network.subnetIds                  | a list of 1 to 16
      subnets a string               | "vpcId": "vpc-0a1b2c3d", "subnetIds": "subnet-0a1b2c3d", "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false                     | network.subnetIds                  | a list of 1 to 16
      second subnet a security group | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d", "sg-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false    | network.subnetIds[1]               | subnet-
      subnet twice                   | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false | network.subnetIds                 | twice
      security groups missing        | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "gatewayEndpoints": false                                                        | network.securityGroupIds           | is required
      six security groups            | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-00000001", "sg-00000002", "sg-00000003", "sg-00000004", "sg-00000005", "sg-00000006"], "gatewayEndpoints": false | network.securityGroupIds | a list of 1 to 5
      cluster group not an id        | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false, "clusterSecurityGroupId": "msk" | network.clusterSecurityGroupId | security group
      gateway endpoints not boolean  | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": "yes"                   | network.gatewayEndpoints           | true or false
      gateway endpoints, no routes   | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]                                              | network.routeTableIds              | already route S3 and DynamoDB
      routes without gateways        | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false, "routeTableIds": ["rtb-0a1b2c3d"] | network.routeTableIds | used only by the gateway endpoints
      route table not an id          | "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "routeTableIds": ["main"]                   | network.routeTableIds[0]           | rtb-
      interface endpoints not boolean| "vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"], "gatewayEndpoints": false, "interfaceEndpoints": 1 | network.interfaceEndpoints | true or false
      """)
  void badNetworkIsRefusedNamingTheSetting(String description, String network, String field, String hint) {
    assertThatThrownBy(() -> withNetwork(network))
        .isInstanceOfSatisfying(InvalidPipelineConfigException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageContaining("'" + field + "'")
        .hasMessageContaining(hint);
  }

  @Test
  void networkWithoutAnMskSourceIsRefused() {
    String json = MINIMAL.replace("\"sink\"", "\"network\": {" + NETWORK + ", \"gatewayEndpoints\": false}, \"sink\"");

    assertThatThrownBy(() -> PipelineConfigReader.fromJson(json))
        .isInstanceOfSatisfying(InvalidPipelineConfigException.class, e -> assertThat(e.field()).isEqualTo("network"))
        .hasMessageContaining("no 'msk' source");
  }

  @Test
  void networkMustBeAnObject() {
    assertThatThrownBy(() -> PipelineConfigReader.fromJson(MSK_IAM.formatted(", \"network\": [\"vpc-0a1b2c3d\"]")))
        .isInstanceOfSatisfying(InvalidPipelineConfigException.class, e -> assertThat(e.field()).isEqualTo("network"))
        .hasMessageContaining("JSON object");
  }
}
