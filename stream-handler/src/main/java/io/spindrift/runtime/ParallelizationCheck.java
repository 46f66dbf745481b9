package io.spindrift.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.config.ConfigException;
import io.spindrift.config.SpindriftConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * The cold-start refusal of a Kinesis ParallelizationFactor above 1 (DESIGN §5): a factor above 1 makes one shard
 * deliver interleaved concurrent batches, and a single position per shard would drop records. The function's real
 * mappings are read when it may ({@code lambda:ListEventSourceMappings}, which the CDK app grants); when they cannot
 * be read (locally, or the permission is missing) the check falls back to SPINDRIFT_PARALLELIZATION_FACTOR, which
 * {@link SpindriftConfig} already refused when above 1. One log line says which source was used.
 */
final class ParallelizationCheck {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.invocation");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME";

  /** Where the factor that was checked came from. */
  enum Source { MAPPINGS, ENVIRONMENT }

  private ParallelizationCheck() {}

  /**
   * Checks this container's function, named by {@code AWS_LAMBDA_FUNCTION_NAME} (unset outside Lambda).
   *
   * @return where the checked factor came from
   * @throws ConfigException if a mapping of the function has a ParallelizationFactor above 1
   */
  static Source atColdStart(SpindriftConfig config) {
    String function = System.getenv(FUNCTION_NAME);
    if (function == null || function.isBlank()) {
      return check(config, function, null);
    }
    try (LambdaClient lambda = AwsClients.lambda(config)) {
      return check(config, function, new LambdaEventSourceMappings(lambda));
    }
  }

  /**
   * Checks {@code function}'s mappings through {@code mappings}, or the environment's factor when there is no
   * function name (then {@code mappings} may be null) or the mappings are {@link EventSourceMappings.Unavailable}.
   *
   * @return where the checked factor came from
   * @throws ConfigException if a mapping has a ParallelizationFactor above 1
   */
  static Source check(SpindriftConfig config, String function, EventSourceMappings mappings) {
    if (function == null || function.isBlank()) {
      log(config, Source.ENVIRONMENT, function, FUNCTION_NAME + " is not set (not in Lambda)");
      return Source.ENVIRONMENT;
    }
    Map<String, Integer> factors;
    try {
      factors = mappings.parallelizationFactors(function);
    } catch (EventSourceMappings.Unavailable unavailable) {
      log(config, Source.ENVIRONMENT, function, unavailable.getMessage());
      return Source.ENVIRONMENT;
    }
    factors.forEach((uuid, factor) -> {
      if (factor != null && factor > 1) {
        throw SpindriftConfig.parallelizationRefused(Integer.toString(factor),
            "event-source mapping " + uuid + " of function " + function);
      }
    });
    log(config, Source.MAPPINGS, function, factors.size() + " mapping(s)");
    return Source.MAPPINGS;
  }

  private static void log(SpindriftConfig config, Source source, String function, String detail) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("app", config.app());
    line.put("check", "parallelizationFactor");
    line.put("source", source.name().toLowerCase(java.util.Locale.ROOT));
    line.put("function", function);
    line.put("detail", detail);
    try {
      LOG.info(JSON.writeValueAsString(line));
    } catch (JsonProcessingException e) {
      LOG.info("{}", line);
    }
  }
}
