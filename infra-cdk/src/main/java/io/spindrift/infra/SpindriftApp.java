package io.spindrift.infra;

import io.spindrift.infra.config.InvalidPipelineConfigException;
import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfigReader;
import java.nio.file.Files;
import java.nio.file.Path;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;

/**
 * The CDK app: {@code cdk synth|deploy} runs this main. The pipeline configuration comes from CDK
 * context, either {@code -c spindrift:configFile=path/to/pipeline.json} or an inline object under
 * {@code spindrift:config} in {@code cdk.json}. The image directory defaults to {@code image/}
 * beside {@code cdk.json} and can be overridden with {@code -c spindrift:imageDir=...}.
 */
public final class SpindriftApp {
  /** Context key naming a JSON configuration file. */
  public static final String CONFIG_FILE_CONTEXT = "spindrift:configFile";
  /** Context key holding the configuration object inline. */
  public static final String CONFIG_CONTEXT = "spindrift:config";
  /** Context key overriding the container image directory. */
  public static final String IMAGE_DIR_CONTEXT = "spindrift:imageDir";

  private SpindriftApp() {}

  public static void main(String[] args) {
    App app = new App();
    PipelineConfig config = config(app);
    Path imageDirectory = imageDirectory(app);
    new SpindriftPipelineStack(app, "Spindrift-" + config.app(), StackProps.builder()
        .description("Spindrift pipeline '" + config.app() + "': Spark micro-batches on Lambda, exactly once into "
            + config.sink().format().settingValue())
        .env(Environment.builder()
            .account(System.getenv("CDK_DEFAULT_ACCOUNT"))
            .region(System.getenv("CDK_DEFAULT_REGION"))
            .build())
        .build(), config, imageDirectory);
    app.synth();
  }

  /** Reads the configuration named by the app's context; fails naming the context key if absent. */
  public static PipelineConfig config(App app) {
    Object file = app.getNode().tryGetContext(CONFIG_FILE_CONTEXT);
    if (file != null) {
      return PipelineConfigReader.fromFile(Path.of(file.toString()));
    }
    Object inline = app.getNode().tryGetContext(CONFIG_CONTEXT);
    if (inline != null) {
      return PipelineConfigReader.fromContextValue(inline);
    }
    throw new InvalidPipelineConfigException(CONFIG_FILE_CONTEXT,
        "no pipeline configuration: pass -c " + CONFIG_FILE_CONTEXT + "=pipeline.json or set " + CONFIG_CONTEXT + " in cdk.json");
  }

  private static Path imageDirectory(App app) {
    Object dir = app.getNode().tryGetContext(IMAGE_DIR_CONTEXT);
    Path path = Path.of(dir == null ? "image" : dir.toString()).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path.resolve("Dockerfile"))) {
      throw new InvalidPipelineConfigException(IMAGE_DIR_CONTEXT, "no Dockerfile in " + path);
    }
    return path;
  }
}
