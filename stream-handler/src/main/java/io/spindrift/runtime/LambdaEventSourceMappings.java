package io.spindrift.runtime;

import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.EventSourceMappingConfiguration;

/** {@link EventSourceMappings} from Lambda's {@code ListEventSourceMappings} (every page). */
final class LambdaEventSourceMappings implements EventSourceMappings {
  private final LambdaClient lambda;

  /** @param lambda the client to ask (not closed here) */
  LambdaEventSourceMappings(LambdaClient lambda) {
    this.lambda = lambda;
  }

  @Override
  public Map<String, Integer> parallelizationFactors(String functionName) {
    Map<String, Integer> factors = new LinkedHashMap<>();
    try {
      for (EventSourceMappingConfiguration mapping
          : lambda.listEventSourceMappingsPaginator(b -> b.functionName(functionName)).eventSourceMappings()) {
        factors.put(mapping.uuid(), mapping.parallelizationFactor());
      }
    } catch (SdkException e) {
      throw new Unavailable("ListEventSourceMappings(" + functionName + ") failed: " + e.getMessage(), e);
    }
    return factors;
  }
}
