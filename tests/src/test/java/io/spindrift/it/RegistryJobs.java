package io.spindrift.it;

import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.SinkSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Jobs over payloads behind a schema registry, as a user writes them: one line each. */
final class RegistryJobs {
  private RegistryJobs() {}

  /** Avro orders (Confluent- or Glue-framed) read with the reader schema the job ships. */
  public static final class AvroOrders implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseAvro(input, "classpath:registry/order.avsc", "order_id");
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.orders");
    }
  }
}
