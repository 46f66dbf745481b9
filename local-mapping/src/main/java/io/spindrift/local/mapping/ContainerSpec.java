package io.spindrift.local.mapping;

import java.util.List;
import java.util.Map;

/**
 * What a {@link FrozenContainers} container runs, as a Lambda function configuration: the handler class (built
 * with its no-argument constructor), its event and response types, the environment (SPINDRIFT_* settings, AWS
 * keys) and the child JVM's options and class path.
 */
public record ContainerSpec(String handler, Class<?> eventType, Class<?> responseType,
    Map<String, String> environment, List<String> jvmOptions, String classPath) {
  public ContainerSpec {
    if (handler == null || handler.isBlank()) {
      throw new IllegalArgumentException("Invalid handler: " + handler);
    }
    environment = Map.copyOf(environment);
    jvmOptions = List.copyOf(jvmOptions);
  }

  /** A spec whose containers run on this JVM's class path. */
  public static ContainerSpec of(String handler, Class<?> eventType, Class<?> responseType,
      Map<String, String> environment, List<String> jvmOptions) {
    return new ContainerSpec(handler, eventType, responseType, environment, jvmOptions,
        System.getProperty("java.class.path"));
  }
}
