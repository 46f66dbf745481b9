package io.spindrift.infra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.infra.config.PipelineConfig.CatalogType;
import io.spindrift.infra.config.PipelineConfig.MskAuthType;
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
}
