package io.spindrift.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * cdk.sh installs the pinned CLI from npm (once) and `cdk synth` runs the Maven-built app with no
 * AWS account or network beyond the registry. The build step is skipped: this test runs after
 * Maven compiled the app (and inside the Maven build, which holds the build lock).
 */
class CdkCliSynthTest {
  @Test
  void cdkCliSynthesizesTheAppOffline() throws IOException, InterruptedException {
    Path module = SynthesizedPipeline.moduleDir();
    Path template = module.resolve("target/cdk.out/Spindrift-clickstream.template.json");
    Files.deleteIfExists(template);
    Path log = Files.createTempFile("cdk-synth", ".log");
    ProcessBuilder builder = new ProcessBuilder(module.resolve("cdk.sh").toString(), "synth", "--quiet")
        .directory(module.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("SPINDRIFT_SKIP_BUILD", "1");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    Process cdk = builder.start();

    boolean finished = cdk.waitFor(10, TimeUnit.MINUTES);

    String output = Files.readString(log);
    assertThat(finished).as(output).isTrue();
    assertThat(cdk.exitValue()).as(output).isZero();
    assertThat(template).content()
        .contains("\"AWS::Lambda::EventSourceMapping\"", "\"ReportBatchItemFailures\"", "\"PackageType\": \"Image\"");
    assertThat(module.resolve("target/cdk.out/Spindrift-clickstream.assets.json")).content().contains("\"platform\": \"linux/amd64\"");
  }
}
