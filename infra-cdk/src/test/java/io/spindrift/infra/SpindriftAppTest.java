package io.spindrift.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.infra.config.InvalidPipelineConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;

/** How the CDK app finds its configuration in CDK context, and refuses bad configuration at synth. */
class SpindriftAppTest {
  @Test
  void readsTheConfigFileNamedInContext(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pipeline.json");
    Files.writeString(file, SynthesizedPipeline.KINESIS_GLUE);
    App app = new App(AppProps.builder().context(Map.of(SpindriftApp.CONFIG_FILE_CONTEXT, file.toString())).build());

    assertThat(SpindriftApp.config(app).app()).isEqualTo("metrics");
  }

  @Test
  void readsAnInlineConfigObjectFromContext() {
    App app = new App(AppProps.builder().context(Map.of(SpindriftApp.CONFIG_CONTEXT, Map.of(
        "app", "inline", "job", "com.example.Job", "kinesis", Map.of("shardCount", 1),
        "sink", Map.of("format", "iceberg", "table", "a.b")))).build());

    assertThat(SpindriftApp.config(app).app()).isEqualTo("inline");
  }

  @Test
  void synthRefusesAParallelizationFactorAboveOne(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pipeline.json");
    Files.writeString(file, SynthesizedPipeline.KINESIS_GLUE.replace("\"kinesis\"",
        "\"eventSource\": {\"parallelizationFactor\": 4}, \"kinesis\""));
    App app = new App(AppProps.builder().context(Map.of(SpindriftApp.CONFIG_FILE_CONTEXT, file.toString())).build());

    assertThatThrownBy(() -> SpindriftApp.config(app))
        .isInstanceOf(InvalidPipelineConfigException.class)
        .hasMessageContaining("eventSource.parallelizationFactor")
        .hasMessageContaining("DESIGN §5");
  }

  @Test
  void missingConfigurationNamesTheContextKeys() {
    assertThatThrownBy(() -> SpindriftApp.config(new App()))
        .hasMessageContaining(SpindriftApp.CONFIG_FILE_CONTEXT)
        .hasMessageContaining(SpindriftApp.CONFIG_CONTEXT);
  }
}
