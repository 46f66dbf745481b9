package io.spindrift.it;

import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.SinkSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Jobs over change streams of orders (key {@code order_id}), as a user writes them: one line each. */
final class ChangeJobs {
  static final StructType ORDER = new StructType()
      .add("order_id", DataTypes.StringType).add("status", DataTypes.StringType).add("amount", DataTypes.LongType);
  static final StructType DEBEZIUM_ORDER = new StructType()
      .add("order_id", DataTypes.LongType).add("status", DataTypes.StringType).add("amount", DataTypes.LongType);

  private ChangeJobs() {}

  /** Orders as JSON values on a compacted Kafka topic keyed by order id: a tombstone deletes the order. */
  public static final class KafkaOrders implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJsonWithTombstones(input, ORDER, "order_id");
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.orders").upsert("order_id");
    }
  }

  /** A Debezium connector's change events of an {@code orders} table. */
  public static final class DebeziumOrders implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.unwrapDebezium(input, DEBEZIUM_ORDER);
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.orders").upsert("order_id");
    }
  }
}
