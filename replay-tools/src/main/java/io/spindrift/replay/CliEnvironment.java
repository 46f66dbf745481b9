package io.spindrift.replay;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import java.io.PrintStream;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * What a command runs in: the settings (the runtime's {@code SPINDRIFT_*} environment variables and properties
 * file, with the CLI's {@code --app} applied), the CLI's own variables ({@code SPINDRIFT_KINESIS_ENDPOINT},
 * {@code SPINDRIFT_KAFKA_BOOTSTRAP}) and where output goes.
 */
record CliEnvironment(Map<String, String> variables, PrintStream out, PrintStream err) {
  static CliEnvironment system() {
    return new CliEnvironment(System.getenv(), System.out, System.err);
  }

  String variable(String name, String otherwise) {
    String value = variables.get(name);
    return value == null || value.isBlank() ? otherwise : value;
  }

  /** The runtime's settings with {@code app} as SPINDRIFT_APP (null: the environment's app). */
  SpindriftConfig config(String app) {
    Map<String, String> settings = new HashMap<>(variables);
    if (app != null) {
      settings.put(Setting.APP.key(), app);
    }
    return SpindriftConfig.of(settings, "the environment");
  }

  /** A Kinesis client (SDK v2) for the settings' region and keys; {@code endpoint} overrides AWS's (a local stack). */
  static KinesisClient kinesis(SpindriftConfig config, String endpoint) {
    var builder = KinesisClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.create());
    if (endpoint != null && !endpoint.isBlank()) {
      // emulators (kinesalite) speak JSON only: the SDK's CBOR wire format off, as the local stack does
      System.setProperty("aws.cborEnabled", "false");
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  /** A Lambda client (SDK v2) whose calls may last as long as a function may run (15 minutes). */
  static software.amazon.awssdk.services.lambda.LambdaClient lambda(SpindriftConfig config, String endpoint) {
    var builder = software.amazon.awssdk.services.lambda.LambdaClient.builder()
        .region(Region.of(config.region()))
        .credentialsProvider(credentials(config))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(java.time.Duration.ofMinutes(15)).build());
    if (endpoint != null && !endpoint.isBlank()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }

  private static AwsCredentialsProvider credentials(SpindriftConfig config) {
    String key = config.get(Setting.ACCESS_KEY);
    if (key.isBlank()) {
      return DefaultCredentialsProvider.builder().build();
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(key, config.get(Setting.SECRET_KEY)));
  }
}
