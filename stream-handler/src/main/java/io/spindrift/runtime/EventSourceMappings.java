package io.spindrift.runtime;

import java.util.Map;

/**
 * The event-source mappings that invoke a function, as far as a container checks them at cold start: their
 * ParallelizationFactor. {@link LambdaEventSourceMappings} asks Lambda; tests use a fake.
 */
interface EventSourceMappings {
  /**
   * Returns the ParallelizationFactor of each mapping that invokes {@code functionName}, by mapping UUID (a null
   * factor: a mapping without one, e.g. Kafka's).
   *
   * @throws Unavailable if the mappings cannot be read (permission denied, no network, no credentials)
   */
  Map<String, Integer> parallelizationFactors(String functionName);

  /** The mappings could not be read; the message says why. */
  final class Unavailable extends RuntimeException {
    Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
