package io.spindrift.infra.config;

/**
 * A pipeline configuration value that cannot be deployed. The message names the field by its path
 * in the configuration (for example {@code eventSource.parallelizationFactor}) and says what to do,
 * so {@code cdk synth} fails before anything reaches CloudFormation.
 */
public final class InvalidPipelineConfigException extends IllegalArgumentException {
  private final String field;

  public InvalidPipelineConfigException(String field, String problem) {
    super("Invalid pipeline config field '" + field + "': " + problem);
    this.field = field;
  }

  /** Returns the path of the offending field, e.g. {@code msk.auth.secretArn}. */
  public String field() {
    return field;
  }
}
