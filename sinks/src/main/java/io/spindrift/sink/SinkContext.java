package io.spindrift.sink;

import io.spindrift.config.Setting;
import java.util.Map;
import org.apache.iceberg.catalog.Catalog;
import org.apache.spark.sql.SparkSession;

/**
 * What a sink may use, built once per container by the runtime: the app, the Spark session, the Iceberg catalog
 * (for Iceberg tables), where stage documents go, and the raw {@code SPINDRIFT_*} settings (endpoints, keys,
 * region, bucket, warehouse) for formats that need their own clients, read by {@link #setting}. The settings are the
 * runtime's configuration ({@code SpindriftConfig#asMap}: environment and properties file, defaults included).
 */
public record SinkContext(
    String app, SparkSession spark, Catalog icebergCatalog, String stageLocation, Map<String, String> settings) {
  public SinkContext {
    settings = Map.copyOf(settings);
  }

  /** The value of {@code setting} in {@link #settings}, or its default when absent or blank. */
  public String setting(Setting setting) {
    String value = settings.get(setting.key());
    return value == null || value.isBlank() ? setting.defaultValue() : value.trim();
  }
}
