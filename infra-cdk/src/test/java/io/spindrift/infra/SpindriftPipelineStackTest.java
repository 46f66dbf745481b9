package io.spindrift.infra;

import static io.spindrift.infra.SynthesizedPipeline.EXISTING_STREAM_SCRAM_DELTA;
import static io.spindrift.infra.SynthesizedPipeline.FULL;
import static io.spindrift.infra.SynthesizedPipeline.KINESIS_ENHANCED_FAN_OUT;
import static io.spindrift.infra.SynthesizedPipeline.KINESIS_GLUE;
import static io.spindrift.infra.SynthesizedPipeline.NETWORK_BARE;
import static io.spindrift.infra.SynthesizedPipeline.NETWORK_IAM;
import static io.spindrift.infra.SynthesizedPipeline.NETWORK_SCRAM_NO_ENDPOINTS;
import static io.spindrift.infra.SynthesizedPipeline.READ_AHEAD_IAM;
import static io.spindrift.infra.SynthesizedPipeline.READ_AHEAD_SCRAM;
import static io.spindrift.infra.SynthesizedPipeline.annotations;
import static io.spindrift.infra.SynthesizedPipeline.template;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.infra.config.PipelineConfigReader;
import io.spindrift.infra.function.PipelineFunctions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

/** Template assertions on the synthesized pipeline (DESIGN §10, issue 5). */
class SpindriftPipelineStackTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** EC2 Describe* and Lambda's ListEventSourceMappings have no resource-level permissions: "*" is the only one. */
  private static final Set<String> ACTIONS_WITHOUT_RESOURCE_SCOPE = Set.of(
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
      "lambda:ListEventSourceMappings");

  @Test
  void fullPipelineHasTheExpectedResources() {
    Template t = template(FULL);
    t.resourceCountIs("AWS::Lambda::Function", 5);
    t.resourceCountIs("AWS::Lambda::EventSourceMapping", 2);
    t.resourceCountIs("AWS::DynamoDB::Table", 3);
    t.resourceCountIs("AWS::S3::Bucket", 1);
    t.resourceCountIs("AWS::SQS::Queue", 1);
    t.resourceCountIs("AWS::Kinesis::Stream", 1);
    t.resourceCountIs("AWS::IAM::Role", 5);
    t.resourceCountIs("AWS::Logs::LogGroup", 5);
    t.resourceCountIs("AWS::CloudWatch::Alarm", 15);
    t.resourceCountIs("AWS::Events::Rule", 2);
    t.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  }

  @Test
  void functionsAreContainerImagesFromOneAssetWithTheRightHandlerAndSizing() {
    Template t = template(FULL);
    t.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
        "FunctionName", "spindrift-clickstream-kinesis",
        "PackageType", "Image",
        "ImageConfig", Map.of("Command", List.of(PipelineFunctions.KINESIS_HANDLER)),
        "MemorySize", 6144, "Timeout", 600, "EphemeralStorage", Map.of("Size", 4096),
        "ReservedConcurrentExecutions", 8,
        "Architectures", List.of("x86_64"))));
    t.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
        "FunctionName", "spindrift-clickstream-msk",
        "ImageConfig", Map.of("Command", List.of(PipelineFunctions.MSK_HANDLER)),
        "MemorySize", 6144, "ReservedConcurrentExecutions", 8)));
    t.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
        "FunctionName", "spindrift-clickstream-child",
        "ImageConfig", Map.of("Command", List.of(PipelineFunctions.CHILD_EXECUTOR_HANDLER)),
        "MemorySize", 3008, "Timeout", 300, "EphemeralStorage", Map.of("Size", 1024))));
    assertThat(resources(t, "AWS::Lambda::Function").values().stream()
        .map(r -> json(props(r).get("Code"))).distinct())
        .as("one image asset for all functions").hasSize(1);
  }

  @Test
  void functionsGetEveryRuntimeSetting() {
    Map<String, Object> env = environment(template(FULL), "spindrift-clickstream-kinesis");
    assertThat(env).containsEntry("SPINDRIFT_APP", "clickstream")
        .containsEntry("SPINDRIFT_JOB", "com.example.jobs.Clickstream")
        .containsEntry("SPINDRIFT_SINK_FORMAT", "iceberg")
        .containsEntry("SPINDRIFT_SINK_TABLE", "analytics.page_views")
        .containsEntry("SPINDRIFT_CATALOG", "dynamodb")
        .containsEntry("SPINDRIFT_SHUFFLE_PARTITIONS", "16")
        .containsEntry("SPINDRIFT_PARALLELIZATION_FACTOR", "1")
        .containsEntry("SPINDRIFT_MAX_COMMIT_ATTEMPTS", "7")
        .containsEntry("SPINDRIFT_REGION", Map.of("Ref", "AWS::Region"))
        .containsKeys("SPINDRIFT_COMMIT_TABLE", "SPINDRIFT_CATALOG_TABLE", "SPINDRIFT_BUCKET", "SPINDRIFT_FANOUT_FUNCTION");
    assertThat(json(env.get("SPINDRIFT_WAREHOUSE"))).contains("s3://").endsWith("\"/warehouse\"]]}");
    assertThat(environment(template(FULL), "spindrift-clickstream-child")).doesNotContainKey("SPINDRIFT_FANOUT_FUNCTION");
  }

  @Test
  void kinesisMappingHasEveryDeliveryOption() {
    template(FULL).hasResourceProperties("AWS::Lambda::EventSourceMapping", Match.objectLike(Map.of(
        "EventSourceArn", Map.of("Fn::GetAtt", List.of(logicalId(template(FULL), "AWS::Kinesis::Stream"), "Arn")),
        "FunctionResponseTypes", List.of("ReportBatchItemFailures"),
        "BisectBatchOnFunctionError", true,
        "MaximumRetryAttempts", 5,
        "MaximumRecordAgeInSeconds", 3600,
        "ParallelizationFactor", 1,
        "BatchSize", 2000,
        "MaximumBatchingWindowInSeconds", 2,
        "StartingPosition", "TRIM_HORIZON",
        "DestinationConfig", Map.of("OnFailure", Map.of("Destination",
            Map.of("Fn::GetAtt", List.of(logicalId(template(FULL), "AWS::SQS::Queue"), "Arn")))))));
  }

  @Test
  void mskMappingHasEveryDeliveryOption() {
    template(FULL).hasResourceProperties("AWS::Lambda::EventSourceMapping", Match.objectLike(Map.of(
        "EventSourceArn", "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2",
        "Topics", List.of("page-views"),
        "AmazonManagedKafkaEventSourceConfig", Map.of("ConsumerGroupId", "spindrift-clickstream"),
        "FunctionResponseTypes", List.of("ReportBatchItemFailures"),
        "BisectBatchOnFunctionError", true,
        "MaximumRetryAttempts", 5,
        "MaximumRecordAgeInSeconds", 3600,
        "ProvisionedPollerConfig", Map.of("MinimumPollers", 2, "MaximumPollers", 20),
        "DestinationConfig", Match.objectLike(Map.of("OnFailure", Match.anyValue())))));
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA, KINESIS_GLUE})
  void everyMappingReportsBatchItemFailuresBisectsAndHasAnOnFailureDestination(String config) {
    Map<String, Map<String, Object>> mappings = resources(template(config), "AWS::Lambda::EventSourceMapping");
    assertThat(mappings).isNotEmpty();
    mappings.values().forEach(m -> assertThat(props(m))
        .containsEntry("FunctionResponseTypes", List.of("ReportBatchItemFailures"))
        .containsEntry("BisectBatchOnFunctionError", true)
        .containsKeys("DestinationConfig", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds"));
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA, KINESIS_GLUE})
  void everyTableIsOnDemandWithPointInTimeRecoveryAndRetained(String config) {
    resources(template(config), "AWS::DynamoDB::Table").values().forEach(table -> {
      assertThat(props(table)).containsEntry("BillingMode", "PAY_PER_REQUEST")
          .containsEntry("PointInTimeRecoverySpecification", Map.of("PointInTimeRecoveryEnabled", true));
      assertThat(table).containsEntry("DeletionPolicy", "Retain");
    });
  }

  @Test
  void commitLogIsTheSingleTableLayoutWithTtl() {
    assertThat(props(tableWith(template(FULL), "CommitLog"))).containsAllEntriesOf(Map.of(
        "KeySchema", List.of(Map.of("AttributeName", "pk", "KeyType", "HASH"), Map.of("AttributeName", "sk", "KeyType", "RANGE")),
        "AttributeDefinitions", List.of(Map.of("AttributeName", "pk", "AttributeType", "S"),
            Map.of("AttributeName", "sk", "AttributeType", "S")),
        "TimeToLiveSpecification", Map.of("AttributeName", "ttl", "Enabled", true)));
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA, KINESIS_GLUE})
  void everyAppGetsAStateTableWithTheLayoutStateTableCreates(String config) {
    Template t = template(config);
    assertThat(props(tableWith(t, "StateStore"))).containsAllEntriesOf(Map.of(
        "KeySchema", List.of(Map.of("AttributeName", "pk", "KeyType", "HASH"), Map.of("AttributeName", "sk", "KeyType", "RANGE")),
        "AttributeDefinitions", List.of(Map.of("AttributeName", "pk", "AttributeType", "S"),
            Map.of("AttributeName", "sk", "AttributeType", "B")),
        "TimeToLiveSpecification", Map.of("AttributeName", "ttl", "Enabled", true)));
    String app = PipelineConfigReader.fromJson(config).app();
    assertThat(environment(t, "spindrift-" + app + "-kinesis")).containsKey("SPINDRIFT_STATE_TABLE");
  }

  @Test
  void handlersAndReduceChildrenMayReadState() {
    Template t = template(FULL);
    String stateId = logicalIdWith(t, "AWS::DynamoDB::Table", "StateStore");
    assertThat(tableActions(t, "KinesisHandlerRole", stateId)).contains("dynamodb:Query", "dynamodb:PutItem");
    assertThat(tableActions(t, "MskHandlerRole", stateId)).contains("dynamodb:Query", "dynamodb:PutItem");
    assertThat(tableActions(t, "ChildExecutorRole", stateId)).contains("dynamodb:Query", "dynamodb:BatchGetItem");
  }

  @Test
  void icebergCatalogTableHasTheSchemaDynamoDbCatalogExpects() {
    template(FULL).hasResourceProperties("AWS::DynamoDB::Table", Match.objectLike(Map.of(
        "KeySchema", List.of(Map.of("AttributeName", "identifier", "KeyType", "HASH"),
            Map.of("AttributeName", "namespace", "KeyType", "RANGE")),
        "GlobalSecondaryIndexes", List.of(Map.of(
            "IndexName", "namespace-identifier",
            "KeySchema", List.of(Map.of("AttributeName", "namespace", "KeyType", "HASH"),
                Map.of("AttributeName", "identifier", "KeyType", "RANGE")),
            "Projection", Map.of("ProjectionType", "KEYS_ONLY"))))));
  }

  @Test
  void bucketIsEncryptedPrivateRetainedAndNeverExpiresWhatUnpublishedCommitsReference() {
    Map<String, Object> bucket = resources(template(FULL), "AWS::S3::Bucket").values().iterator().next();
    assertThat(bucket).containsEntry("DeletionPolicy", "Retain");
    assertThat(props(bucket))
        .containsEntry("BucketEncryption", Map.of("ServerSideEncryptionConfiguration",
            List.of(Map.of("ServerSideEncryptionByDefault", Map.of("SSEAlgorithm", "AES256")))))
        .containsEntry("PublicAccessBlockConfiguration", Map.of("BlockPublicAcls", true, "BlockPublicPolicy", true,
            "IgnorePublicAcls", true, "RestrictPublicBuckets", true));
    List<Map<String, Object>> rules = list(map(props(bucket).get("LifecycleConfiguration")).get("Rules"));
    // issue 14, defect 3: the stage prefix only loses incomplete uploads; the maintenance run collects the rest
    assertThat(rules).extracting(r -> r.get("Prefix"), r -> r.get("ExpirationInDays"))
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("clickstream/stage/", null),
            org.assertj.core.groups.Tuple.tuple("clickstream/shuffle/", 1),
            org.assertj.core.groups.Tuple.tuple("clickstream/archive/", null));
    assertThat(rules).allSatisfy(r -> assertThat(r.get("Status")).isEqualTo("Enabled"));
    // the archive outlives the stream's retention: kept, moved to Standard-IA after 30 days (issue 13)
    assertThat(rules).filteredOn(r -> "clickstream/archive/".equals(r.get("Prefix"))).singleElement()
        .satisfies(r -> assertThat(r.get("Transitions")).isEqualTo(
            List.of(Map.of("StorageClass", "STANDARD_IA", "TransitionInDays", 30))));
  }

  @Test
  void handlersFanOutAndArchiveAsConfigured() {
    Template t = template(FULL);
    assertThat(environment(t, "spindrift-clickstream-kinesis"))
        .containsEntry("SPINDRIFT_FANOUT", "auto")
        .containsEntry("SPINDRIFT_FANOUT_MAX_RECORDS", "20000")
        .containsEntry("SPINDRIFT_ARCHIVE", "true")
        .containsKey("SPINDRIFT_FANOUT_FUNCTION");
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA})
  void readAheadIsOffByDefault(String config) {
    Template t = template(config);
    String app = PipelineConfigReader.fromJson(config).app();
    for (String handler : List.of("kinesis", "msk")) {
      assertThat(environment(t, "spindrift-" + app + "-" + handler)).as(handler)
          .containsEntry("SPINDRIFT_READ_AHEAD", "off")
          .doesNotContainKeys("SPINDRIFT_KAFKA_BOOTSTRAP", "SPINDRIFT_KAFKA_SECURITY", "SPINDRIFT_KAFKA_SCRAM_SECRET");
    }
    t.resourceCountIs("Custom::AWS", 0);
  }

  @Test
  void readAheadTurnsOnInEveryCommittingHandlerOnly() {
    Template t = template(READ_AHEAD_IAM);
    assertThat(environment(t, "spindrift-catchup-kinesis")).containsEntry("SPINDRIFT_READ_AHEAD", "on")
        .doesNotContainKeys("SPINDRIFT_KAFKA_BOOTSTRAP", "SPINDRIFT_KAFKA_SECURITY");
    assertThat(environment(t, "spindrift-catchup-msk")).containsEntry("SPINDRIFT_READ_AHEAD", "on");
    for (String other : List.of("child", "rollforward", "maintain")) {
      assertThat(environment(t, "spindrift-catchup-" + other)).as(other).doesNotContainKey("SPINDRIFT_READ_AHEAD");
    }
  }

  @Test
  void mskIamReadAheadConnectsWithIamToTheBrokersResolvedAtDeploy() {
    Template t = template(READ_AHEAD_IAM);
    String lookup = logicalId(t, "Custom::AWS");
    assertThat(environment(t, "spindrift-catchup-msk"))
        .containsEntry("SPINDRIFT_KAFKA_SECURITY", "iam")
        .containsEntry("SPINDRIFT_KAFKA_BOOTSTRAP", Map.of("Fn::GetAtt", List.of(lookup, "BootstrapBrokerStringSaslIam")))
        .doesNotContainKey("SPINDRIFT_KAFKA_SCRAM_SECRET");
    assertThat(bootstrapBrokersCall(t))
        .containsEntry("service", "Kafka")
        .containsEntry("action", "getBootstrapBrokers")
        .containsEntry("parameters", Map.of("ClusterArn",
            "arn:aws:kafka:eu-west-1:111122223333:cluster/events/6b2c1f0e-1111-2222-3333-444455556666-2"))
        .containsEntry("outputPaths", List.of("BootstrapBrokerStringSaslIam"));
  }

  @Test
  void mskScramReadAheadConnectsWithTheMappingsSecretToTheScramBrokers() {
    Template t = template(READ_AHEAD_SCRAM);
    String lookup = logicalId(t, "Custom::AWS");
    assertThat(environment(t, "spindrift-orders-msk"))
        .containsEntry("SPINDRIFT_READ_AHEAD", "on")
        .containsEntry("SPINDRIFT_KAFKA_SECURITY", "scram")
        .containsEntry("SPINDRIFT_KAFKA_SCRAM_SECRET",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf")
        .containsEntry("SPINDRIFT_KAFKA_BOOTSTRAP",
            Map.of("Fn::GetAtt", List.of(lookup, "BootstrapBrokerStringSaslScram")));
    assertThat(bootstrapBrokersCall(t)).containsEntry("outputPaths", List.of("BootstrapBrokerStringSaslScram"));
    // the consumer reads the secret the mapping's grants already cover
    assertThat(json(allowStatements(t, "MskHandlerRole")))
        .contains("\"Action\":\"secretsmanager:GetSecretValue\",\"Effect\":\"Allow\",\"Resource\":\"arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {READ_AHEAD_IAM, READ_AHEAD_SCRAM})
  void bootstrapBrokerLookupMayReadOnlyItsClusterAndWriteOnlyItsLogs(String config) {
    Template t = template(config);
    String cluster = PipelineConfigReader.fromJson(config).msk().orElseThrow().clusterArn();
    String logs = logicalIdWith(t, "AWS::Logs::LogGroup", "BootstrapBrokersProviderLogs");
    Map<String, Object> role = resources(t, "AWS::IAM::Role").get(logicalIdWith(t, "AWS::IAM::Role",
        "BootstrapBrokersProviderRole"));
    assertThat(props(role)).doesNotContainKey("ManagedPolicyArns");
    List<Map<String, Object>> statements = allowStatements(t, "BootstrapBrokersProviderRole");
    assertThat(statements).hasSize(2).anySatisfy(s -> {
      assertThat(strings(s.get("Action"))).containsExactly("kafka:GetBootstrapBrokers");
      assertThat(strings(s.get("Resource"))).containsExactly(cluster);
    }).anySatisfy(s -> {
      assertThat(strings(s.get("Action"))).containsExactlyInAnyOrder("logs:CreateLogStream", "logs:PutLogEvents");
      assertThat(json(s.get("Resource"))).contains(logs);
    });
    // the lookup runs on the custom resource's provider function, which logs to that group
    t.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
        "LoggingConfig", Map.of("LogGroup", Map.of("Ref", logs)))));
  }

  @Test
  void bucketPolicyDeniesRequestsWithoutTls() {
    template(FULL).hasResourceProperties("AWS::S3::BucketPolicy", Match.objectLike(Map.of(
        "PolicyDocument", Match.objectLike(Map.of("Statement", Match.arrayWith(List.of(Match.objectLike(Map.of(
            "Effect", "Deny",
            "Action", "s3:*",
            "Principal", Map.of("AWS", "*"),
            "Condition", Map.of("Bool", Map.of("aws:SecureTransport", "false")))))))))));
  }

  @Test
  void onFailureQueueIsEncryptedAndTlsOnly() {
    template(FULL).hasResourceProperties("AWS::SQS::Queue", Match.objectLike(Map.of(
        "SqsManagedSseEnabled", true, "MessageRetentionPeriod", 1209600)));
    template(FULL).hasResourceProperties("AWS::SQS::QueuePolicy", Match.objectLike(Map.of(
        "PolicyDocument", Match.objectLike(Map.of("Statement", Match.arrayWith(List.of(Match.objectLike(Map.of(
            "Effect", "Deny", "Condition", Map.of("Bool", Map.of("aws:SecureTransport", "false")))))))))));
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA, KINESIS_GLUE, KINESIS_ENHANCED_FAN_OUT, READ_AHEAD_IAM,
      READ_AHEAD_SCRAM, NETWORK_IAM, NETWORK_SCRAM_NO_ENDPOINTS, NETWORK_BARE})
  void noIamStatementGrantsStarWhereAScopedArnIsPossible(String config) {
    Template t = template(config);
    assertThat(resources(t, "AWS::IAM::Role").values())
        .allSatisfy(role -> assertThat(props(role)).doesNotContainKey("ManagedPolicyArns"));
    List<Map<String, Object>> statements = allowStatements(t);
    assertThat(statements).isNotEmpty();
    for (Map<String, Object> statement : statements) {
      List<String> actions = strings(statement.get("Action"));
      assertThat(actions).as("actions of %s", statement).noneMatch(a -> a.equals("*") || a.endsWith(":*"));
      if (strings(statement.get("Resource")).contains("*")) {
        assertThat(ACTIONS_WITHOUT_RESOURCE_SCOPE).as("'*' resource in %s", statement).containsAll(actions);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA, KINESIS_GLUE})
  void s3AccessIsScopedToTheAppAndWarehousePrefixes(String config) {
    String app = PipelineConfigReader.fromJson(config).app();
    for (Map<String, Object> statement : allowStatements(template(config))) {
      if (strings(statement.get("Action")).stream().noneMatch(a -> a.startsWith("s3:"))) {
        continue;
      }
      for (Object resource : resourceList(statement)) {
        String text = json(resource);
        if (text.contains("Fn::GetAtt") && text.contains("Bucket")) {
          boolean objectScoped = text.endsWith("\"/" + app + "/*\"]]}") || text.endsWith("\"/warehouse/*\"]]}");
          boolean bucketWithPrefixCondition = !text.contains("Fn::Join") && statement.containsKey("Condition");
          assertThat(objectScoped || bucketWithPrefixCondition).as("S3 resource %s in %s", text, statement).isTrue();
        } else {
          assertThat(text).as("S3 resource outside the app's bucket").contains("jobs-bucket/orders/job.sql");
        }
      }
    }
  }

  @Test
  void childExecutorStagesButCannotCommit() {
    Template t = template(FULL);
    List<Map<String, Object>> child = allowStatements(t, "ChildExecutorRole");
    List<String> actions = child.stream().flatMap(s -> strings(s.get("Action")).stream()).toList();
    assertThat(actions).doesNotContain("lambda:InvokeFunction", "sqs:SendMessage");
    // it stages files into the table's location, as a handler does (DESIGN §7)
    assertThat(child).anySatisfy(s -> {
      assertThat(json(s.get("Resource"))).contains("/warehouse/*");
      assertThat(strings(s.get("Action"))).contains("s3:PutObject");
    });
    // but only the parent commits: the commit log is read-only to a child
    String commitsId = logicalIdWith(t, "AWS::DynamoDB::Table", "CommitLog");
    assertThat(tableActions(t, "ChildExecutorRole", commitsId)).contains("dynamodb:Query")
        .doesNotContain("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem");
  }

  /** Issue 14, defect 10: a handler reads its mappings' ParallelizationFactor at cold start; nothing else may. */
  @Test
  void handlersMayListTheirEventSourceMappings() {
    Template t = template(FULL);
    for (String role : List.of("KinesisHandlerRole", "MskHandlerRole")) {
      assertThat(allowStatements(t, role)).as(role).anySatisfy(statement -> {
        assertThat(strings(statement.get("Action"))).containsExactly("lambda:ListEventSourceMappings");
        assertThat(strings(statement.get("Resource"))).containsExactly("*");
      });
    }
    assertThat(allowStatements(t, "ChildExecutorRole")).noneMatch(
        statement -> strings(statement.get("Action")).contains("lambda:ListEventSourceMappings"));
    t.hasResourceProperties("AWS::IAM::Policy", Match.objectLike(Map.of("PolicyDocument", Match.objectLike(Map.of(
        "Statement", Match.arrayWith(List.of(Match.objectLike(Map.of(
            "Action", "lambda:ListEventSourceMappings", "Effect", "Allow", "Resource", "*")))))))));
  }

  @Test
  void handlersMayInvokeOnlyTheirChildExecutor() {
    String childId = logicalIdWith(template(FULL), "AWS::Lambda::Function", "ChildExecutor");
    List<Map<String, Object>> invokes = allowStatements(template(FULL)).stream()
        .filter(s -> strings(s.get("Action")).contains("lambda:InvokeFunction")).toList();
    assertThat(invokes).hasSize(2).allSatisfy(s -> assertThat(json(s.get("Resource"))).contains(childId));
  }

  @Test
  void mskIamAuthIsScopedToClusterTopicAndGroup() {
    String statements = json(allowStatements(template(FULL), "MskHandlerRole"));
    assertThat(statements)
        .contains("\"kafka-cluster:ReadData\"],\"Effect\":\"Allow\",\"Resource\":\"arn:aws:kafka:eu-west-1:111122223333:topic/events/6b2c1f0e-1111-2222-3333-444455556666-2/page-views\"")
        .contains("\"kafka-cluster:AlterGroup\"],\"Effect\":\"Allow\",\"Resource\":\"arn:aws:kafka:eu-west-1:111122223333:group/events/6b2c1f0e-1111-2222-3333-444455556666-2/spindrift-clickstream\"");
  }

  @Test
  void mskScramUsesTheSecretAndItsKeyOnly() {
    Template t = template(EXISTING_STREAM_SCRAM_DELTA);
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", Match.objectLike(Map.of(
        "SourceAccessConfigurations", List.of(Map.of("Type", "SASL_SCRAM_512_AUTH",
            "URI", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf")))));
    String statements = json(allowStatements(t, "MskHandlerRole"));
    assertThat(statements)
        .contains("\"Action\":\"secretsmanager:GetSecretValue\",\"Effect\":\"Allow\",\"Resource\":\"arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbCdEf\"")
        .contains("\"Action\":\"kms:Decrypt\",\"Effect\":\"Allow\",\"Resource\":\"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"")
        .doesNotContain("kafka-cluster:");
  }

  @Test
  void enhancedFanOutRegistersAConsumerAndTheMappingReadsThroughIt() {
    Template t = template(KINESIS_ENHANCED_FAN_OUT);
    String stream = logicalId(t, "AWS::Kinesis::Stream");
    String consumer = logicalId(t, "AWS::Kinesis::StreamConsumer");

    t.resourceCountIs("AWS::Kinesis::StreamConsumer", 1);
    t.hasResourceProperties("AWS::Kinesis::StreamConsumer", Map.of(
        "ConsumerName", "spindrift-fanout",
        "StreamARN", Map.of("Fn::GetAtt", List.of(stream, "Arn"))));
    t.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    Map<String, Object> mapping = props(resources(t, "AWS::Lambda::EventSourceMapping").values().iterator().next());
    assertThat(json(mapping.get("EventSourceArn"))).contains(consumer).doesNotContain(stream);
    assertThat(mapping).containsEntry("FunctionResponseTypes", List.of("ReportBatchItemFailures"))
        .containsEntry("BisectBatchOnFunctionError", true)
        .containsEntry("ParallelizationFactor", 1)
        .containsKeys("DestinationConfig", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds");
    List<Map<String, Object>> onConsumer = allowStatements(t, "KinesisHandlerRole").stream()
        .filter(s -> json(s.get("Resource")).contains(consumer)).toList();
    assertThat(onConsumer.stream().flatMap(s -> strings(s.get("Action")).stream()))
        .contains("kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer");
    assertThat(json(allowStatements(t, "KinesisHandlerRole"))).contains("kinesis:DescribeStreamSummary")
        .contains(stream);
  }

  @Test
  void withoutEnhancedFanOutTheMappingReadsTheStreamAndNoConsumerIsRegistered() {
    Template t = template(KINESIS_GLUE);
    t.resourceCountIs("AWS::Kinesis::StreamConsumer", 0);
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", Match.objectLike(Map.of(
        "EventSourceArn", Map.of("Fn::GetAtt", List.of(logicalId(t, "AWS::Kinesis::Stream"), "Arn")))));
  }

  @Test
  void existingStreamIsReferencedNotCreated() {
    Template t = template(EXISTING_STREAM_SCRAM_DELTA);
    t.resourceCountIs("AWS::Kinesis::Stream", 0);
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", Match.objectLike(Map.of(
        "EventSourceArn", "arn:aws:kinesis:eu-west-1:111122223333:stream/orders")));
    assertThat(json(allowStatements(t, "KinesisHandlerRole")))
        .contains("\"kinesis:GetRecords\"").contains("arn:aws:kinesis:eu-west-1:111122223333:stream/orders");
  }

  @Test
  void deltaGetsItsLogStoreTableAndNoIcebergCatalog() {
    Template t = template(EXISTING_STREAM_SCRAM_DELTA);
    t.resourceCountIs("AWS::DynamoDB::Table", 3);
    t.hasResourceProperties("AWS::DynamoDB::Table", Match.objectLike(Map.of(
        "KeySchema", List.of(Map.of("AttributeName", "tablePath", "KeyType", "HASH"),
            Map.of("AttributeName", "fileName", "KeyType", "RANGE")),
        "TimeToLiveSpecification", Map.of("AttributeName", "expireTime", "Enabled", true))));
    String logId = logicalIdWith(t, "AWS::DynamoDB::Table", "DeltaLogStore");
    assertThat(tableActions(t, "KinesisHandlerRole", logId)).contains("dynamodb:PutItem", "dynamodb:Query");
    assertThat(tableActions(t, "MskHandlerRole", logId)).contains("dynamodb:PutItem", "dynamodb:Query");
    assertThat(tableActions(t, "ChildExecutorRole", logId)).contains("dynamodb:PutItem"); // stage-time schema change
    assertThat(environment(t, "spindrift-orders-kinesis"))
        .containsKey("SPINDRIFT_DELTA_LOG_TABLE").doesNotContainKey("SPINDRIFT_CATALOG_TABLE")
        .containsEntry("SPINDRIFT_SINK_FORMAT", "delta")
        .containsEntry("SPINDRIFT_JOB", "s3://jobs-bucket/orders/job.sql");
  }

  @Test
  void glueCatalogIsGrantedOnTheSinkDatabaseAndTableOnly() {
    Template t = template(KINESIS_GLUE);
    t.resourceCountIs("AWS::DynamoDB::Table", 2);
    t.resourceCountIs("AWS::Lambda::Function", 4);
    String statements = json(allowStatements(t, "KinesisHandlerRole"));
    assertThat(statements).contains("glue:UpdateTable").contains(":database/ops\"").contains(":table/ops/metrics\"");
  }

  @Test
  void alarmsWatchLagErrorsThrottlesConflictsAndFailuresAndNotifyTheTopic() {
    Template t = template(FULL);
    t.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
        "Namespace", "AWS/Lambda", "MetricName", "IteratorAge", "Statistic", "Maximum", "Threshold", 120000)));
    t.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
        "Namespace", "AWS/Lambda", "MetricName", "OffsetLag")));
    t.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
        "Namespace", "Spindrift", "MetricName", "CommitConflicts", "Statistic", "Sum", "Threshold", 25,
        "Dimensions", List.of(Map.of("Name", "App", "Value", "clickstream")))));
    t.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
        "Namespace", "AWS/SQS", "MetricName", "ApproximateNumberOfMessagesVisible")));
    Collection<Map<String, Object>> alarms = resources(t, "AWS::CloudWatch::Alarm").values();
    assertThat(alarms.stream().map(a -> props(a).get("MetricName"))).filteredOn("Errors"::equals).hasSize(5);
    assertThat(alarms.stream().map(a -> props(a).get("MetricName"))).filteredOn("Throttles"::equals).hasSize(5);
    assertThat(alarms).allSatisfy(a -> assertThat(props(a))
        .containsEntry("AlarmActions", List.of("arn:aws:sns:eu-west-1:111122223333:oncall")));
  }

  /** Issue 14, defect 2: a scheduled roll-forward completes publication, and an alarm watches the oldest commit. */
  @Test
  void aScheduledRollForwardPublishesWhatIsCommittedAndAnAlarmWatchesTheOldestUnpublishedCommit() {
    Template t = template(FULL);
    t.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
        "FunctionName", "spindrift-clickstream-rollforward",
        "ImageConfig", Map.of("Command", List.of(PipelineFunctions.ROLL_FORWARD_HANDLER)))));
    t.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
        "ScheduleExpression", "rate(" + PipelineFunctions.ROLL_FORWARD_MINUTES + " minutes)",
        "State", "ENABLED")));
    assertThat(json(resources(t, "AWS::Events::Rule").values())).contains("RollForward");
    t.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
        "Namespace", "Spindrift", "MetricName", "OldestUnpublishedCommitAgeSeconds", "Statistic", "Maximum",
        "Threshold", 900, "Dimensions", List.of(Map.of("Name", "App", "Value", "clickstream")))));
    assertThat(tableActions(t, "RollForwardRole", logicalIdWith(t, "AWS::DynamoDB::Table", "CommitLog")))
        .contains("dynamodb:Query", "dynamodb:UpdateItem");
  }

  /** Issue 15: table maintenance on a schedule, its rate and on/off from the config, files per table on the dashboard. */
  @Test
  void aScheduledMaintenanceRunCompactsTheTablesAndCollectsPublishedStages() {
    Template t = template(FULL);
    t.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
        "FunctionName", "spindrift-clickstream-maintain", "Timeout", 900, "ReservedConcurrentExecutions", 1,
        "ImageConfig", Map.of("Command", List.of(PipelineFunctions.MAINTENANCE_HANDLER)))));
    t.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
        "Name", "spindrift-clickstream-maintain", "ScheduleExpression", "rate(30 minutes)", "State", "ENABLED")));
    String role = "MaintenanceRole";
    assertThat(json(allowStatements(t, role))).contains("s3:DeleteObject", "s3:ListBucket", "clickstream/*");
    assertThat(tableActions(t, role, logicalIdWith(t, "AWS::DynamoDB::Table", "CommitLog"))).contains("dynamodb:Query");
    Map<String, Object> dashboard = resources(t, "AWS::CloudWatch::Dashboard").values().iterator().next();
    assertThat(json(props(dashboard).get("DashboardBody"))).contains("TableDataFiles", "analytics.page_views");

    String off = FULL.replace("\"maintenance\": {\"rateMinutes\": 30}", "\"maintenance\": {\"enabled\": false}");
    Template disabled = Template.fromStack(SynthesizedPipeline.stack(PipelineConfigReader.fromJson(off)));
    disabled.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
        "Name", "spindrift-clickstream-maintain", "ScheduleExpression", "rate(1 hour)", "State", "DISABLED")));
  }

  @Test
  void aStageExpiryIsRefusedBecauseItWouldExpireWhatUnpublishedCommitsReference() {
    String expiring = FULL.replace("\"storage\": {\"shuffleExpiryDays\": 1}",
        "\"storage\": {\"stageExpiryDays\": 7, \"shuffleExpiryDays\": 1}");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PipelineConfigReader.fromJson(expiring))
        .hasMessageContaining("storage.stageExpiryDays").hasMessageContaining("unpublished commits");
  }

  @Test
  void dashboardShowsTheSameSignals() {
    Map<String, Object> dashboard = resources(template(FULL), "AWS::CloudWatch::Dashboard").values().iterator().next();
    assertThat(props(dashboard)).containsEntry("DashboardName", "spindrift-clickstream");
    assertThat(json(props(dashboard).get("DashboardBody")))
        .contains("IteratorAge", "OffsetLag", "CommitConflicts", "OldestUnpublishedCommitAgeSeconds", "Errors", "Throttles", "ApproximateNumberOfMessagesVisible")
        .contains("SEARCH('{Spindrift,App,Lane} MetricName=", "CommitLatencyMs", "TableDataFiles");
  }

  @Test
  void eachFunctionLogsToItsOwnRetainedLogGroup() {
    Template t = template(FULL);
    for (String suffix : List.of("kinesis", "msk", "child", "rollforward", "maintain")) {
      t.hasResourceProperties("AWS::Logs::LogGroup", Map.of(
          "LogGroupName", "/aws/lambda/spindrift-clickstream-" + suffix, "RetentionInDays", 30));
    }
  }

  @Test
  void hudiGetsALockTableAndAPublishLeaseTable() {
    String hudi = KINESIS_GLUE.replace("\"format\": \"iceberg\"", "\"format\": \"hudi\"");
    Template t = Template.fromStack(SynthesizedPipeline.stack(PipelineConfigReader.fromJson(hudi)));
    t.resourceCountIs("AWS::DynamoDB::Table", 4);
    Map<String, Object> locks = props(tableWith(t, "HudiLocks"));
    assertThat(locks).containsEntry("KeySchema", List.of(Map.of("AttributeName", "key", "KeyType", "HASH")))
        .containsEntry("AttributeDefinitions", List.of(Map.of("AttributeName", "key", "AttributeType", "S")))
        .doesNotContainKey("TimeToLiveSpecification");
    Map<String, Object> lease = props(tableWith(t, "HudiPublishLease"));
    assertThat(lease).containsEntry("KeySchema", List.of(Map.of("AttributeName", "lease", "KeyType", "HASH")))
        .containsEntry("AttributeDefinitions", List.of(Map.of("AttributeName", "lease", "AttributeType", "S")))
        .doesNotContainKey("TimeToLiveSpecification");
    assertThat(environment(t, "spindrift-metrics-kinesis"))
        .containsKeys("SPINDRIFT_HUDI_LOCK_TABLE", "SPINDRIFT_HUDI_LEASE_TABLE", "SPINDRIFT_STATE_TABLE");
    for (String table : List.of("HudiLocks", "HudiPublishLease")) {
      String id = logicalIdWith(t, "AWS::DynamoDB::Table", table);
      assertThat(tableActions(t, "KinesisHandlerRole", id)).contains("dynamodb:GetItem", "dynamodb:PutItem",
          "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable").doesNotContain("dynamodb:CreateTable");
      assertThat(tableActions(t, "ChildExecutorRole", id)).contains("dynamodb:PutItem"); // stage creates a table
    }
    assertThat(json(allowStatements(t))).doesNotContain("glue:", "dynamodb:CreateTable");
  }

  // ---- the MSK cluster's network (issue 12: read-ahead against private brokers) ----

  @Test
  void theMskHandlerRunsInTheConfiguredSubnetsWithTheConfiguredSecurityGroupsAndNoOtherFunctionDoes() {
    Template t = template(NETWORK_IAM);
    assertThat(props(function(t, "spindrift-private-msk")).get("VpcConfig")).isEqualTo(Map.of(
        "SubnetIds", List.of("subnet-0aaa1111bbbb22223", "subnet-0aaa1111bbbb22224"),
        "SecurityGroupIds", List.of("sg-0fff1111eeee22223", "sg-0fff1111eeee22224")));
    // the others call only AWS APIs: in a VPC they would need endpoints or NAT for nothing
    for (String other : List.of("kinesis", "child", "rollforward", "maintain")) {
      assertThat(props(function(t, "spindrift-private-" + other))).as(other).doesNotContainKey("VpcConfig");
    }
    assertThat(props(function(template(READ_AHEAD_IAM), "spindrift-catchup-msk"))).as("no network configured")
        .doesNotContainKey("VpcConfig");
  }

  @ParameterizedTest
  @ValueSource(strings = {NETWORK_IAM, NETWORK_SCRAM_NO_ENDPOINTS, NETWORK_BARE})
  void aHandlerInTheNetworkMayManageItsNetworkInterfacesBeforeLambdaCreatesIt(String config) {
    Template t = template(config);
    String app = PipelineConfigReader.fromJson(config).app();
    assertThat(allowStatements(t, "MskHandlerRole")).anySatisfy(s -> {
      assertThat(strings(s.get("Action"))).containsExactlyInAnyOrder("ec2:CreateNetworkInterface",
          "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses");
      assertThat(json(s.get("Resource"))).contains(":ec2:", "AWS::Region", "AWS::AccountId", ":*/*");
    }).anySatisfy(s -> {
      assertThat(strings(s.get("Action"))).containsExactlyInAnyOrder("ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets");
      assertThat(strings(s.get("Resource"))).containsExactly("*");
    });
    // CreateFunction checks the role for these permissions: its policy must exist first
    String policy = logicalIdWith(t, "AWS::IAM::Policy", "MskHandlerRoleDefaultPolicy");
    assertThat(strings(function(t, "spindrift-" + app + "-msk").get("DependsOn"))).contains(policy);
  }

  @Test
  void onlyAHandlerInTheNetworkGetsTheVpcAccessActions() {
    assertThat(actions(template(NETWORK_IAM), "KinesisHandlerRole")).doesNotContain("ec2:AssignPrivateIpAddresses");
    assertThat(actions(template(NETWORK_IAM), "ChildExecutorRole")).doesNotContain("ec2:CreateNetworkInterface");
    assertThat(actions(template(READ_AHEAD_IAM), "MskHandlerRole")).doesNotContain("ec2:AssignPrivateIpAddresses");
  }

  @Test
  void theClusterSecurityGroupAdmitsTheHandlersGroupsOnTheBrokerPortOfTheAuthentication() {
    Template iam = template(NETWORK_IAM);
    iam.resourceCountIs("AWS::EC2::SecurityGroupIngress", 2);
    for (String group : List.of("sg-0fff1111eeee22223", "sg-0fff1111eeee22224")) {
      iam.hasResourceProperties("AWS::EC2::SecurityGroupIngress", Map.of("GroupId", "sg-0c1c1c1c1c1c1c1c1",
          "IpProtocol", "tcp", "FromPort", 9098, "ToPort", 9098, "SourceSecurityGroupId", group));
    }
    Template scram = template(NETWORK_SCRAM_NO_ENDPOINTS);
    scram.resourceCountIs("AWS::EC2::SecurityGroupIngress", 1);
    scram.hasResourceProperties("AWS::EC2::SecurityGroupIngress", Map.of("GroupId", "sg-0c1c1c1c",
        "IpProtocol", "tcp", "FromPort", 9096, "ToPort", 9096, "SourceSecurityGroupId", "sg-0a1b2c3d"));
    template(NETWORK_BARE).resourceCountIs("AWS::EC2::SecurityGroupIngress", 0);
  }

  @Test
  void gatewayAndInterfaceEndpointsAreCreatedWhenAsked() {
    Template t = template(NETWORK_IAM);
    for (String service : List.of("s3", "dynamodb")) {
      t.hasResourceProperties("AWS::EC2::VPCEndpoint", Map.of("VpcEndpointType", "Gateway",
          "VpcId", "vpc-0a1b2c3d4e5f60718", "ServiceName", serviceName(service),
          "RouteTableIds", List.of("rtb-0d1d1d1d1d1d1d1d1", "rtb-0d1d1d1d1d1d1d1d2")));
    }
    String endpointGroup = logicalIdWith(t, "AWS::EC2::SecurityGroup", "EndpointSecurityGroup");
    t.hasResourceProperties("AWS::EC2::VPCEndpoint", Map.of("VpcEndpointType", "Interface",
        "VpcId", "vpc-0a1b2c3d4e5f60718", "ServiceName", serviceName("lambda"), "PrivateDnsEnabled", true,
        "SubnetIds", List.of("subnet-0aaa1111bbbb22223", "subnet-0aaa1111bbbb22224"),
        "SecurityGroupIds", List.of(Map.of("Fn::GetAtt", List.of(endpointGroup, "GroupId")))));
    // IAM auth and the DynamoDB catalog need no Secrets Manager or Glue
    t.resourceCountIs("AWS::EC2::VPCEndpoint", 3);
    Map<String, Object> group = props(resources(t, "AWS::EC2::SecurityGroup").get(endpointGroup));
    assertThat(group).containsEntry("VpcId", "vpc-0a1b2c3d4e5f60718");
    assertThat(list(group.get("SecurityGroupIngress")))
        .extracting(r -> r.get("SourceSecurityGroupId"), r -> r.get("IpProtocol"), r -> r.get("FromPort"),
            r -> r.get("ToPort"))
        .containsExactlyInAnyOrder(tuple("sg-0fff1111eeee22223", "tcp", 443, 443),
            tuple("sg-0fff1111eeee22224", "tcp", 443, 443));
  }

  @ParameterizedTest
  @ValueSource(strings = {NETWORK_SCRAM_NO_ENDPOINTS, NETWORK_BARE, FULL, READ_AHEAD_IAM})
  void noEndpointIsCreatedUnlessAsked(String config) {
    template(config).resourceCountIs("AWS::EC2::VPCEndpoint", 0);
    template(config).resourceCountIs("AWS::EC2::SecurityGroup", 0);
  }

  @Test
  void interfaceEndpointsCoverSecretsManagerForScramReadAheadAndGlueForTheGlueCatalog() {
    String json = NETWORK_SCRAM_NO_ENDPOINTS.replace("\"gatewayEndpoints\": false",
        "\"gatewayEndpoints\": false, \"interfaceEndpoints\": true")
        .replace("{\"format\": \"delta\", \"table\": \"sales.orders\"}",
            "{\"format\": \"iceberg\", \"table\": \"sales.orders\", \"catalog\": \"glue\"}");
    Template t = Template.fromStack(SynthesizedPipeline.stack(PipelineConfigReader.fromJson(json)));
    List<Object> services = resources(t, "AWS::EC2::VPCEndpoint").values().stream()
        .map(e -> props(e).get("ServiceName")).toList();
    assertThat(services).containsExactlyInAnyOrder(serviceName("lambda"), serviceName("secretsmanager"),
        serviceName("glue"));
  }

  @ParameterizedTest
  @ValueSource(strings = {READ_AHEAD_IAM, READ_AHEAD_SCRAM})
  void readAheadOnMskWithoutANetworkWarnsThatItCannotReachPrivateBrokers(String config) {
    assertThat(warnings(config, "runtime.readAhead is on with an MSK source.*")).singleElement()
        .satisfies(w -> assertThat(w).contains("outside the cluster's VPC", "Set 'network'"));
  }

  @ParameterizedTest
  @ValueSource(strings = {FULL, EXISTING_STREAM_SCRAM_DELTA, NETWORK_IAM, NETWORK_SCRAM_NO_ENDPOINTS})
  void noReadAheadWarningWithReadAheadOffOrInTheNetwork(String config) {
    assertThat(warnings(config, "runtime.readAhead is on.*")).isEmpty();
  }

  @Test
  void aNetworkWithoutInterfaceEndpointsWarnsWhichApisNeedANatRoute() {
    assertThat(warnings(NETWORK_SCRAM_NO_ENDPOINTS, ".*through public AWS endpoints.*")).singleElement()
        .satisfies(w -> assertThat(w).contains("calls secretsmanager (read-ahead reads the SCRAM secret)",
            "NAT gateway", "network.interfaceEndpoints").doesNotContain("lambda"));
    assertThat(warnings(NETWORK_IAM, ".*through public AWS endpoints.*")).as("endpoints created").isEmpty();
    assertThat(warnings(NETWORK_BARE, ".*through public AWS endpoints.*")).as("only S3 and DynamoDB").isEmpty();
  }

  @Test
  void theExampleWithAPrivateClusterSynthesizesWithTheHandlerInItsNetworkAndNoWarning() {
    SpindriftPipelineStack stack = SynthesizedPipeline.stack(PipelineConfigReader.fromFile(
        SynthesizedPipeline.moduleDir().resolve("pipeline.msk-private.example.json")));
    Template t = Template.fromStack(stack);
    assertThat(props(function(t, "spindrift-clickstream-msk"))).containsKey("VpcConfig");
    t.resourceCountIs("AWS::EC2::VPCEndpoint", 3);
    t.resourceCountIs("AWS::EC2::SecurityGroupIngress", 1);
    assertThat(software.amazon.awscdk.assertions.Annotations.fromStack(stack)
        .findWarning("*", Match.stringLikeRegexp(".*"))).isEmpty();
  }

  // ---- template walking ----

  private static Map<String, Map<String, Object>> resources(Template t, String type) {
    return t.findResources(type);
  }

  private static Map<String, Object> props(Map<String, Object> resource) {
    return map(resource.get("Properties"));
  }

  private static String logicalId(Template t, String type) {
    return resources(t, type).keySet().iterator().next();
  }

  private static String logicalIdWith(Template t, String type, String part) {
    return resources(t, type).keySet().stream().filter(id -> id.contains(part)).findFirst().orElseThrow();
  }

  private static Map<String, Object> tableWith(Template t, String part) {
    return resources(t, "AWS::DynamoDB::Table").get(logicalIdWith(t, "AWS::DynamoDB::Table", part));
  }

  /** Actions the role's policies allow on the table with logical id {@code tableId} (or its indexes). */
  private static List<String> tableActions(Template t, String role, String tableId) {
    return allowStatements(t, role).stream()
        .filter(s -> json(s.get("Resource")).contains("\"" + tableId + "\""))
        .flatMap(s -> strings(s.get("Action")).stream())
        .toList();
  }

  /** The SDK call the bootstrap-broker custom resource makes on create (CloudFormation hands it over as JSON). */
  private static Map<String, Object> bootstrapBrokersCall(Template t) {
    Map<String, Object> resource = resources(t, "Custom::AWS").values().iterator().next();
    try {
      return map(JSON.readValue((String) props(resource).get("Create"), Map.class));
    } catch (Exception e) {
      throw new IllegalStateException("Create of the bootstrap-broker lookup is not a JSON object: " + resource, e);
    }
  }

  /** The message of each warning of the configuration's stack that matches {@code pattern}. */
  private static List<String> warnings(String config, String pattern) {
    return annotations(config).findWarning("*", Match.stringLikeRegexp(pattern)).stream()
        .map(m -> String.valueOf(m.getEntry().getData()))
        .toList();
  }

  /** The name CloudFormation gets for an AWS service's VPC endpoint in the stack's region. */
  private static Map<String, Object> serviceName(String service) {
    return Map.of("Fn::Join", List.of("", List.of("com.amazonaws.", Map.of("Ref", "AWS::Region"), "." + service)));
  }

  private static Map<String, Object> function(Template t, String functionName) {
    return resources(t, "AWS::Lambda::Function").values().stream()
        .filter(r -> functionName.equals(props(r).get("FunctionName")))
        .findFirst().orElseThrow(() -> new AssertionError("no function " + functionName));
  }

  private static List<String> actions(Template t, String role) {
    return allowStatements(t, role).stream().flatMap(s -> strings(s.get("Action")).stream()).toList();
  }

  private static Map<String, Object> environment(Template t, String functionName) {
    return resources(t, "AWS::Lambda::Function").values().stream()
        .map(SpindriftPipelineStackTest::props)
        .filter(p -> functionName.equals(p.get("FunctionName")))
        .map(p -> map(map(p.get("Environment")).get("Variables")))
        .findFirst().orElseThrow();
  }

  private static List<Map<String, Object>> allowStatements(Template t) {
    return allowStatements(t, "");
  }

  /** Allow statements of the IAM policies attached to roles whose logical id contains {@code role}. */
  private static List<Map<String, Object>> allowStatements(Template t, String role) {
    List<Map<String, Object>> statements = new ArrayList<>();
    for (Map<String, Object> policy : resources(t, "AWS::IAM::Policy").values()) {
      if (!json(props(policy).get("Roles")).contains(role)) {
        continue;
      }
      List<Map<String, Object>> all = list(map(props(policy).get("PolicyDocument")).get("Statement"));
      all.stream().filter(s -> "Allow".equals(s.get("Effect"))).forEach(statements::add);
    }
    return statements;
  }

  private static List<Object> resourceList(Map<String, Object> statement) {
    Object resource = statement.get("Resource");
    return resource instanceof List<?> l ? new ArrayList<>(l) : List.of(resource);
  }

  private static List<String> strings(Object value) {
    if (value instanceof List<?> l) {
      return l.stream().map(o -> o instanceof String s ? s : json(o)).toList();
    }
    return List.of(value instanceof String s ? s : json(value));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> list(Object value) {
    return (List<Map<String, Object>>) value;
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

}
