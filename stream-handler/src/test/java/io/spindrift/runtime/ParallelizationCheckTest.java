package io.spindrift.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.config.ConfigException;
import io.spindrift.config.SpindriftConfig;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/** Issue 14, defect 10: the real mappings' ParallelizationFactor is refused at cold start, as the setting is. */
class ParallelizationCheckTest {
  private static final SpindriftConfig CONFIG = SpindriftConfig.of(Map.of());

  @Test
  void aMappingWithAFactorAboveOneIsRefusedWithTheSettingsMessage() {
    Map<String, Integer> factors = new LinkedHashMap<>();
    factors.put("msk-mapping", null);
    factors.put("kinesis-mapping", 4);

    String settingRefusal = SpindriftConfig.parallelizationRefused("4", null).getMessage();
    assertThatThrownBy(() -> ParallelizationCheck.check(CONFIG, "spindrift-demo-kinesis", function -> factors))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(settingRefusal.substring(0, settingRefusal.length() - 1))
        .hasMessageContaining("SPINDRIFT_PARALLELIZATION_FACTOR")
        .hasMessageContaining("add shards instead")
        .hasMessageContaining("event-source mapping kinesis-mapping of function spindrift-demo-kinesis");
  }

  @Test
  void mappingsWithFactorOneOrNonePassAndAreTheSource() {
    Map<String, Integer> factors = new LinkedHashMap<>();
    factors.put("kinesis-mapping", 1);
    factors.put("msk-mapping", null);

    assertThat(ParallelizationCheck.check(CONFIG, "spindrift-demo-kinesis", function -> {
      assertThat(function).isEqualTo("spindrift-demo-kinesis");
      return factors;
    })).isEqualTo(ParallelizationCheck.Source.MAPPINGS);
  }

  @Test
  void deniedOrUnreachableMappingsFallBackToTheEnvironment() {
    EventSourceMappings denied = function -> {
      throw new EventSourceMappings.Unavailable("AccessDeniedException: not authorized", null);
    };

    assertThat(ParallelizationCheck.check(CONFIG, "spindrift-demo-kinesis", denied))
        .isEqualTo(ParallelizationCheck.Source.ENVIRONMENT);
  }

  @Test
  void outsideLambdaTheEnvironmentIsTheSource() {
    assertThat(ParallelizationCheck.check(CONFIG, null, null)).isEqualTo(ParallelizationCheck.Source.ENVIRONMENT);
    assertThat(ParallelizationCheck.check(CONFIG, "", null)).isEqualTo(ParallelizationCheck.Source.ENVIRONMENT);
  }

  @Test
  void anSdkFailureOfTheLambdaClientIsUnavailableNotFatal() {
    // nothing listens on the discard port: the call fails as it does without network
    try (LambdaClient lambda = LambdaClient.builder()
        .region(Region.US_EAST_1)
        .endpointOverride(URI.create("http://127.0.0.1:9"))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.apiCallTimeout(Duration.ofSeconds(10)))
        .build()) {
      assertThat(ParallelizationCheck.check(CONFIG, "spindrift-demo-kinesis", new LambdaEventSourceMappings(lambda)))
          .isEqualTo(ParallelizationCheck.Source.ENVIRONMENT);
    }
  }
}
