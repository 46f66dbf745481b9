package io.spindrift.it;

import io.spindrift.event.SourceKind;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import scala.Option;
import scala.collection.JavaConverters;

/**
 * The input of an oracle query: a plain Spark {@link MemoryStream} with the Kinesis input schema Spindrift's jobs
 * see, fed batch by batch with the same payloads and positions the Spindrift side receives (one shard).
 */
final class OracleStream {
  private final MemoryStream<Row> stream;
  private final SparkSession spark;
  private long sequence;

  /** A stream on a new session of {@code base} that runs no empty micro-batches (as Spindrift's runtime). */
  OracleStream(SparkSession base) {
    spark = base.newSession();
    spark.conf().set("spark.sql.streaming.noDataMicroBatches.enabled", "false");
    stream = new MemoryStream<>(1, spark.sqlContext(), Option.apply(2),
        ExpressionEncoder.apply(SourceKind.KINESIS.schema()));
  }

  SparkSession spark() {
    return spark;
  }

  Dataset<Row> input() {
    return stream.toDF();
  }

  /** Adds one batch: positions continue from the previous batch, as the shard's sequence numbers do. */
  void add(List<byte[]> payloads, long arrivalMs) {
    List<Row> rows = new ArrayList<>();
    for (byte[] payload : payloads) {
      String position = BigInteger.valueOf(sequence++).toString();
      rows.add(RowFactory.create(payload, "clicks", "k", position, new Timestamp(arrivalMs), null,
          "kinesis:clicks/shardId-000000000000", position));
    }
    stream.addData(JavaConverters.asScalaBuffer(rows).toSeq());
  }
}
