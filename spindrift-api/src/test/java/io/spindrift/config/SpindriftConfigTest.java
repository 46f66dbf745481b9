package io.spindrift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpindriftConfigTest {
  @Test
  void defaultsWorkWithNoSettingAtAll() {
    SpindriftConfig config = SpindriftConfig.of(Map.of());

    assertThat(config.app()).isEqualTo("demo");
    assertThat(config.warehouse()).isEqualTo("s3://spindrift/warehouse");
    assertThat(config.stageLocation()).isEqualTo("s3://spindrift/demo/stage");
    assertThat(config.getInt(Setting.SHUFFLE_PARTITIONS)).isEqualTo(4);
  }

  @Test
  void badNumberFailsNamingTheSetting() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_SHUFFLE_PARTITIONS", "many")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SPINDRIFT_SHUFFLE_PARTITIONS")
        .hasMessageContaining("many");
  }

  @Test
  void parallelizationFactorAboveOneIsRefusedWithTheReason() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_PARALLELIZATION_FACTOR", "2")))
        .hasMessageContaining("SPINDRIFT_PARALLELIZATION_FACTOR")
        .hasMessageContaining("add shards instead");
  }

  @Test
  void badAppNameCatalogAndEndpointAreRefused() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_APP", "my app")))
        .hasMessageContaining("SPINDRIFT_APP");
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_CATALOG", "hive")))
        .hasMessageContaining("SPINDRIFT_CATALOG");
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_CATALOG", "rest")))
        .hasMessageContaining("SPINDRIFT_CATALOG_URI");
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_S3_ENDPOINT", "localhost:9000")))
        .hasMessageContaining("SPINDRIFT_S3_ENDPOINT");
  }

  @Test
  void propertiesFileIsReadAndTheEnvironmentWins(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("spindrift.properties");
    Files.writeString(file, "SPINDRIFT_APP=from-file\nSPINDRIFT_BUCKET=file-bucket\n");

    SpindriftConfig config = SpindriftConfig.of(Map.of("SPINDRIFT_CONFIG_FILE", file.toString(), "SPINDRIFT_APP", "from-env"));

    assertThat(config.app()).isEqualTo("from-env");
    assertThat(config.bucket()).isEqualTo("file-bucket");
  }

  @Test
  void missingPropertiesFileIsNamed() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_CONFIG_FILE", "/nonexistent/x.properties")))
        .hasMessageContaining("SPINDRIFT_CONFIG_FILE");
  }

  @Test
  void anUnknownSettingFromTheEnvironmentIsRefusedNamingTheClosestOne() {
    Map<String, String> environment = new HashMap<>(Map.of("PATH", "/usr/bin", "SPINDRIFT_SINK_FROMAT", "delta"));

    assertThatThrownBy(() -> SpindriftConfig.of(environment, "the environment"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown setting SPINDRIFT_SINK_FROMAT (from the environment); did you mean SPINDRIFT_SINK_FORMAT?");
  }

  @Test
  void anUnknownKeyOfThePropertiesFileIsRefusedNamingTheFileAndTheClosestSetting(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("spindrift.properties");
    Files.writeString(file, "SPINDRIFT_APP=clicks\nSPINDRIFT_SHUFLE_PARTITIONS=8\n");

    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_CONFIG_FILE", file.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown setting SPINDRIFT_SHUFLE_PARTITIONS (from " + file
            + "); did you mean SPINDRIFT_SHUFFLE_PARTITIONS?");
  }

  @Test
  void aPropertiesKeyWithoutThePrefixOrInLowerCaseIsRefusedWithTheFullName(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("spindrift.properties");
    Files.writeString(file, "sink_format=delta\n");

    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_CONFIG_FILE", file.toString())))
        .hasMessageContaining("unknown setting sink_format")
        .hasMessageEndingWith("did you mean SPINDRIFT_SINK_FORMAT?");
  }

  @Test
  void aNameFarFromEverySettingPointsToTheTable() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of("SPINDRIFT_COFFEE_MACHINE", "on")))
        .hasMessage("unknown setting SPINDRIFT_COFFEE_MACHINE (from the settings given); the settings are listed in"
            + " README.md's Configuration table");
  }

  @Test
  void theToolsVariablesAndOtherEnvironmentVariablesAreAllowed() {
    Map<String, String> environment = new HashMap<>();
    for (ToolVariable variable : ToolVariable.values()) {
      environment.put(variable.key(), "x");
    }
    environment.put("HOME", "/root");
    environment.put("SPARK_MASTER", "local[1]");

    assertThat(SpindriftConfig.of(environment, "the environment").get(Setting.SPARK_MASTER)).isEqualTo("local[1]");
  }

  @Test
  void aCopyWithAMisspelledOverrideIsRefusedToo() {
    assertThatThrownBy(() -> SpindriftConfig.of(Map.of()).with(Map.of("SPINDRIFT_PUBLSH", "deferred")))
        .hasMessageContaining("did you mean SPINDRIFT_PUBLISH?");
  }

  @Test
  void theDistanceCountsInsertionsDeletionsAndSubstitutions() {
    assertThat(UnknownSettings.distance("SINK_FROMAT", "SINK_FORMAT")).isEqualTo(2);
    assertThat(UnknownSettings.distance("APP", "APPS")).isEqualTo(1);
    assertThat(UnknownSettings.distance("", "ABC")).isEqualTo(3);
    assertThat(UnknownSettings.distance("KITTEN", "SITTING")).isEqualTo(3);
  }
}
