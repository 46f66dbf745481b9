package io.spindrift.registry;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings that say where writer schemas come from, carried inside the decoding expressions of a plan (they
 * run on Spark's executors and in fan-out children): the Confluent registry URL, Glue's region, endpoint and local
 * keys, and how long a schema the registry did not serve is not asked for again.
 */
record RegistrySettings(Map<String, String> values) implements Serializable {
  private static final List<Setting> CARRIED = List.of(Setting.SCHEMA_REGISTRY_URL, Setting.GLUE_ENDPOINT,
      Setting.SCHEMA_REGISTRY_RETRY_SECONDS, Setting.REGION, Setting.ACCESS_KEY, Setting.SECRET_KEY);

  static RegistrySettings of(SpindriftConfig config) {
    Map<String, String> values = new HashMap<>();
    for (Setting setting : CARRIED) {
      values.put(setting.key(), config.get(setting));
    }
    return new RegistrySettings(Map.copyOf(values));
  }

  SpindriftConfig config() {
    return SpindriftConfig.of(values);
  }
}
