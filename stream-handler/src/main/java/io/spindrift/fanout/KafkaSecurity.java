package io.spindrift.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.config.ConfigException;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import java.io.IOException;
import java.util.Locale;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * How Spindrift's own Kafka clients (catch-up read-ahead's {@link KafkaTail}) reach the brokers: the way the MSK
 * event-source mapping does ({@code SPINDRIFT_KAFKA_SECURITY}). {@code plaintext} (the local broker); {@code tls}:
 * TLS, MSK's port 9094; {@code scram}: SASL/SCRAM-SHA-512 over TLS (port 9096) with the username and password of the
 * Secrets Manager secret the mapping's {@code SASL_SCRAM_512_AUTH} uses ({@code SPINDRIFT_KAFKA_SCRAM_SECRET}, whose
 * value is MSK's {@code {"username":…,"password":…}}); {@code iam}: {@code AWS_MSK_IAM} over TLS (port 9098) with the
 * function's role, through {@code software.amazon.msk:aws-msk-iam-auth}. TLS trusts the JVM's certificate
 * authorities (MSK's brokers present Amazon-issued certificates) unless {@code SPINDRIFT_KAFKA_TRUSTSTORE} names a
 * trust store.
 *
 * <p>Only the configuration is tested on this machine ({@code KafkaSecurityTest}: Kafka's consumer accepts each
 * mapping): the local broker speaks PLAINTEXT only and no MSK cluster or Secrets Manager is reachable, so a TLS, SCRAM
 * or IAM handshake and the secret's read are not.
 *
 * <p>A bad value fails fast with the setting's name; so does {@code iam} without the IAM login module on the class
 * path, and {@code scram} with a secret that holds no username and password.
 */
public final class KafkaSecurity {
  static final String SCRAM_MECHANISM = "SCRAM-SHA-512";
  static final String IAM_LOGIN_MODULE = "software.amazon.msk.auth.iam.IAMLoginModule";
  static final String IAM_CALLBACK_HANDLER = "software.amazon.msk.auth.iam.IAMClientCallbackHandler";
  private static final ObjectMapper JSON = new ObjectMapper();

  private KafkaSecurity() {}

  /**
   * The client properties for {@code config}'s security settings (none but {@code security.protocol} for plaintext);
   * {@code secrets} reads a Secrets Manager secret's string by ARN (asked only for {@code scram}).
   *
   * @throws ConfigException for an unknown {@code SPINDRIFT_KAFKA_SECURITY}, {@code scram} without a secret or with
   *     a secret that holds no username and password, or {@code iam} without aws-msk-iam-auth on the class path
   */
  public static Properties properties(SpindriftConfig config, UnaryOperator<String> secrets) {
    String security = config.get(Setting.KAFKA_SECURITY).trim().toLowerCase(Locale.ROOT);
    Properties props = new Properties();
    switch (security) {
      case "plaintext" -> props.put("security.protocol", "PLAINTEXT");
      case "tls" -> {
        props.put("security.protocol", "SSL");
        trustStore(config, props);
      }
      case "scram" -> {
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.mechanism", SCRAM_MECHANISM);
        props.put("sasl.jaas.config", scramJaas(config, secrets));
        trustStore(config, props);
      }
      case "iam" -> {
        requireIamLoginModule();
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.mechanism", "AWS_MSK_IAM");
        props.put("sasl.jaas.config", IAM_LOGIN_MODULE + " required;");
        props.put("sasl.client.callback.handler.class", IAM_CALLBACK_HANDLER);
        trustStore(config, props);
      }
      default -> throw new ConfigException(Setting.KAFKA_SECURITY, security, "one of plaintext, tls, scram, iam");
    }
    return props;
  }

  private static String scramJaas(SpindriftConfig config, UnaryOperator<String> secrets) {
    String arn = config.get(Setting.KAFKA_SCRAM_SECRET).trim();
    if (arn.isEmpty()) {
      throw new ConfigException(Setting.KAFKA_SCRAM_SECRET, arn,
          "the ARN of the AmazonMSK_ secret the MSK mapping authenticates with (SPINDRIFT_KAFKA_SECURITY=scram)");
    }
    JsonNode secret;
    try {
      secret = JSON.readTree(secrets.apply(arn));
    } catch (IOException e) {
      throw new ConfigException(Setting.KAFKA_SCRAM_SECRET, arn, "a secret whose value is JSON {\"username\":…,"
          + "\"password\":…} (MSK's SCRAM secret format)");
    }
    if (secret == null || !secret.path("username").isTextual() || !secret.path("password").isTextual()) {
      throw new ConfigException(Setting.KAFKA_SCRAM_SECRET, arn, "a secret whose value is JSON {\"username\":…,"
          + "\"password\":…} (MSK's SCRAM secret format)");
    }
    return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
        + jaasQuoted(secret.get("username").asText()) + "\" password=\"" + jaasQuoted(secret.get("password").asText())
        + "\";";
  }

  /** A JAAS option value inside double quotes: backslashes and quotes escaped. */
  static String jaasQuoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static void trustStore(SpindriftConfig config, Properties props) {
    String location = config.get(Setting.KAFKA_TRUSTSTORE).trim();
    if (location.isEmpty()) {
      return;
    }
    props.put("ssl.truststore.location", location);
    String lower = location.toLowerCase(Locale.ROOT);
    props.put("ssl.truststore.type", lower.endsWith(".p12") || lower.endsWith(".pfx") ? "PKCS12" : "JKS");
    String password = config.get(Setting.KAFKA_TRUSTSTORE_PASSWORD);
    if (!password.isEmpty()) {
      props.put("ssl.truststore.password", password);
    }
  }

  private static void requireIamLoginModule() {
    try {
      Class.forName(IAM_LOGIN_MODULE, false, KafkaSecurity.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new ConfigException(Setting.KAFKA_SECURITY, "iam", "a class path with software.amazon.msk:"
          + "aws-msk-iam-auth (its " + IAM_LOGIN_MODULE + " is missing)");
    }
  }
}
