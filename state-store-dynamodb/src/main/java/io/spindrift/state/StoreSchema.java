package io.spindrift.state;

import java.util.Objects;

/**
 * The row layout of one operator's state store, kept with the durable state because Spindrift's checkpoints are
 * disposable and so lose Spark's own schema check: key and value schemas as Spark's JSON, and how many leading
 * key columns form the prefix that {@code prefixScan} matches.
 */
record StoreSchema(long operatorId, String storeName, String keySchemaJson, String valueSchemaJson,
    int numColsPrefixKey) {
  public StoreSchema {
    Objects.requireNonNull(storeName, "storeName");
    Objects.requireNonNull(keySchemaJson, "keySchemaJson");
    Objects.requireNonNull(valueSchemaJson, "valueSchemaJson");
  }
}
