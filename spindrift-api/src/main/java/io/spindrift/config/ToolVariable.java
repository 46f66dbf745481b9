package io.spindrift.config;

/**
 * The {@code SPINDRIFT_*} environment variables that are not {@link Setting}s of the function: they are read by
 * Spindrift's tools (the {@code spindrift} CLI, the scripts, the container image's bootstrap, the local stack) and
 * may be in the environment the runtime starts in. This is the one allow-list of the unknown-setting check in
 * {@link SpindriftConfig}; any other {@code SPINDRIFT_*} name is refused at start.
 */
public enum ToolVariable {
  LAMBDA_ENDPOINT("SPINDRIFT_LAMBDA_ENDPOINT", "`spindrift replay --function`: Lambda endpoint override."),
  JOB_CLASSPATH("SPINDRIFT_JOB_CLASSPATH", "`./spindrift`: your job's jar(s), added to the CLI's classpath."),
  REPO_ROOT("SPINDRIFT_REPO_ROOT", "Local stack: the repository checkout (where the Kinesis emulator is installed)."),
  RUNTIME_LIB("SPINDRIFT_RUNTIME_LIB", "Container image's local bootstrap: the runtime interface client's jars."),
  JAVA("SPINDRIFT_JAVA", "Container image's local bootstrap: the java executable."),
  JOB_JARS("SPINDRIFT_JOB_JARS", "`infra-cdk/cdk.sh`: job jars put into the image (colon-separated)."),
  SKIP_BUILD("SPINDRIFT_SKIP_BUILD", "`infra-cdk/cdk.sh`: 1 skips the Maven build."),
  SKIP_IMAGE("SPINDRIFT_SKIP_IMAGE", "`infra-cdk/cdk.sh`: 1 skips preparing the image."),
  TRAINING_STACK_ENV("SPINDRIFT_TRAINING_STACK_ENV", "`infra-cdk/cdk.sh`: stack environment for the AppCDS training run.");

  private final String key;
  private final String description;

  ToolVariable(String key, String description) {
    this.key = key;
    this.description = description;
  }

  public String key() {
    return key;
  }

  public String description() {
    return description;
  }
}
