package io.spindrift.handler;

import java.util.ArrayList;
import java.util.List;

/**
 * The partial-batch response of a Kafka (MSK) event-source mapping: failed records named by partition key
 * ({@code <topic>-<partition>}) and offset. A bean, so Lambda's serializer writes it as
 * {@code {"batchItemFailures":[{"itemIdentifier":{"partition":"t-0","offset":5}}]}}.
 */
public final class KafkaBatchResponse {
  private List<BatchItemFailure> batchItemFailures = new ArrayList<>();

  public List<BatchItemFailure> getBatchItemFailures() {
    return batchItemFailures;
  }

  public void setBatchItemFailures(List<BatchItemFailure> batchItemFailures) {
    this.batchItemFailures = batchItemFailures;
  }

  /** One failed record. */
  public static final class BatchItemFailure {
    private ItemIdentifier itemIdentifier;

    public BatchItemFailure() {}

    public BatchItemFailure(String partition, long offset) {
      this.itemIdentifier = new ItemIdentifier(partition, offset);
    }

    public ItemIdentifier getItemIdentifier() {
      return itemIdentifier;
    }

    public void setItemIdentifier(ItemIdentifier itemIdentifier) {
      this.itemIdentifier = itemIdentifier;
    }
  }

  /** A record's partition key and offset. */
  public static final class ItemIdentifier {
    private String partition;
    private long offset;

    public ItemIdentifier() {}

    public ItemIdentifier(String partition, long offset) {
      this.partition = partition;
      this.offset = offset;
    }

    public String getPartition() {
      return partition;
    }

    public void setPartition(String partition) {
      this.partition = partition;
    }

    public long getOffset() {
      return offset;
    }

    public void setOffset(long offset) {
      this.offset = offset;
    }
  }
}
