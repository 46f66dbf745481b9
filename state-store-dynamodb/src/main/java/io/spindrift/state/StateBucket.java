package io.spindrift.state;

import java.util.Objects;

/**
 * One unit of durable state: the rows of one Spark state store instance, i.e. one stateful operator's store
 * ({@code storeName}, e.g. {@code default} or a join side's store) in one state partition. Buckets are what
 * commits touch, what the warm cache keeps and what conflict detection compares; {@link #id()} is their stable
 * text form for commit records.
 */
public record StateBucket(long operatorId, String storeName, int partition) {
  public StateBucket {
    Objects.requireNonNull(storeName, "storeName");
    if (operatorId < 0 || partition < 0) {
      throw new IllegalArgumentException("Invalid state bucket: operator " + operatorId + ", partition " + partition);
    }
    if (storeName.isEmpty() || storeName.indexOf('/') >= 0) {
      throw new IllegalArgumentException("Invalid state store name: '" + storeName + "'");
    }
  }

  /** {@code <operatorId>/<storeName>/<partition>}, e.g. {@code 0/default/3}; read back with {@link #parse}. */
  public String id() {
    return operatorId + "/" + storeName + "/" + partition;
  }

  /** The bucket whose {@link #id()} is {@code id}. */
  public static StateBucket parse(String id) {
    String[] parts = id.split("/", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("Invalid state bucket id: '" + id + "' (expected operator/store/partition)");
    }
    try {
      return new StateBucket(Long.parseLong(parts[0]), parts[1], Integer.parseInt(parts[2]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Invalid state bucket id: '" + id + "' (expected operator/store/partition)", e);
    }
  }

  @Override
  public String toString() {
    return "operator " + operatorId + ", store " + storeName + ", partition " + partition;
  }
}
