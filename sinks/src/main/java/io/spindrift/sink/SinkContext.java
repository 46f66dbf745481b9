package io.spindrift.sink;

import java.util.Map;
import org.apache.iceberg.catalog.Catalog;
import org.apache.spark.sql.SparkSession;

/**
 * What a sink may use, built once per container by the runtime: the app, the Spark session, the Iceberg catalog
 * (for Iceberg tables), where stage documents go, and the raw {@code SPINDRIFT_*} settings (endpoints, keys,
 * region, bucket, warehouse) for formats that need their own clients.
 */
public record SinkContext(
    String app, SparkSession spark, Catalog icebergCatalog, String stageLocation, Map<String, String> settings) {
  public SinkContext {
    settings = Map.copyOf(settings);
  }
}
