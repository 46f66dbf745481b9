package io.spindrift.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.config.ConfigException;
import io.spindrift.config.SpindriftConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-ahead's Kafka consumer is configured as the MSK event-source mapping connects: plaintext, TLS, SASL/SCRAM
 * with the mapping's secret, IAM. Kafka's own client accepts each configuration (a consumer is built: its JAAS
 * options parsed, its login module and callback handler loaded, its trust store opened). No broker here speaks TLS,
 * SCRAM or IAM, so no handshake is made: that the brokers accept these credentials is not tested here.
 */
class KafkaSecurityTest {
  private static final String SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_orders-AbC";

  private final List<String> secretsAsked = new ArrayList<>();

  private UnaryOperator<String> secrets(String value) {
    return arn -> {
      secretsAsked.add(arn);
      return value;
    };
  }

  private static SpindriftConfig config(String... keyValues) {
    Map<String, String> settings = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      settings.put(keyValues[i], keyValues[i + 1]);
    }
    return SpindriftConfig.of(settings);
  }

  /** Builds (and closes) the consumer read-ahead would use: Kafka validates the configuration and loads its classes. */
  private static void kafkaAccepts(Properties security) {
    KafkaTail tail = new KafkaTail("127.0.0.1:9", 1, security);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(tail.consumerProperties())) {
      assertThat(consumer.metrics()).isNotEmpty();
    }
  }

  @Test
  void plaintextByDefaultAsOnTheLocalBroker() {
    Properties props = KafkaSecurity.properties(config(), secrets("unused"));

    assertThat(props).containsExactly(Map.entry("security.protocol", "PLAINTEXT"));
    assertThat(secretsAsked).isEmpty();
    kafkaAccepts(props);
  }

  @Test
  void tlsTrustsTheJvmsAuthoritiesOrTheGivenTrustStore(@TempDir Path dir) throws Exception {
    assertThat(KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "tls"), secrets("unused")))
        .containsExactly(Map.entry("security.protocol", "SSL"));

    Path store = dir.resolve("brokers.p12");
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    try (var out = Files.newOutputStream(store)) {
      keyStore.store(out, "changeit".toCharArray());
    }
    Properties props = KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "TLS",
        "SPINDRIFT_KAFKA_TRUSTSTORE", store.toString(), "SPINDRIFT_KAFKA_TRUSTSTORE_PASSWORD", "changeit"),
        secrets("unused"));

    assertThat(props).containsEntry("security.protocol", "SSL")
        .containsEntry("ssl.truststore.location", store.toString())
        .containsEntry("ssl.truststore.type", "PKCS12")
        .containsEntry("ssl.truststore.password", "changeit");
    kafkaAccepts(props);
  }

  @Test
  void scramReadsTheMappingsSecretAndSignsInWithSha512OverTls() {
    Properties props = KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "scram",
        "SPINDRIFT_KAFKA_SCRAM_SECRET", SECRET_ARN),
        secrets("{\"username\":\"reader\",\"password\":\"p\\\"a\\\\ss\"}"));

    assertThat(secretsAsked).containsExactly(SECRET_ARN);
    assertThat(props).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"reader\" password=\"p\\\"a\\\\ss\";");
    kafkaAccepts(props);
  }

  @Test
  void scramWithoutASecretOrWithAnotherKindOfSecretFailsNamingTheSetting() {
    assertThatThrownBy(() -> KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "scram"), secrets("{}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SPINDRIFT_KAFKA_SCRAM_SECRET");
    assertThatThrownBy(() -> KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "scram",
        "SPINDRIFT_KAFKA_SCRAM_SECRET", SECRET_ARN), secrets("{\"user\":\"reader\"}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SPINDRIFT_KAFKA_SCRAM_SECRET")
        .hasMessageContaining("username");
    assertThatThrownBy(() -> KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "scram",
        "SPINDRIFT_KAFKA_SCRAM_SECRET", SECRET_ARN), secrets("not json")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SPINDRIFT_KAFKA_SCRAM_SECRET");
  }

  @Test
  void iamSignsInWithTheMskIamLoginModuleOverTls() {
    Properties props = KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "iam"), secrets("unused"));

    assertThat(props).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "AWS_MSK_IAM")
        .containsEntry("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;")
        .containsEntry("sasl.client.callback.handler.class",
            "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
    assertThat(secretsAsked).isEmpty();
    kafkaAccepts(props);
  }

  @Test
  void anUnknownSecurityFailsNamingTheSettingAndItsChoices() {
    assertThatThrownBy(() -> KafkaSecurity.properties(config("SPINDRIFT_KAFKA_SECURITY", "kerberos"),
        secrets("unused")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SPINDRIFT_KAFKA_SECURITY")
        .hasMessageContaining("plaintext, tls, scram, iam");
  }
}
