package io.spindrift.event;

import static org.apache.spark.sql.types.DataTypes.BinaryType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.TimestampType;

import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Where a batch came from, and the input schema a job sees for it (DESIGN §4): the schema Spark's own
 * connector gives on a cluster, followed by Spindrift's two columns {@code spindrift_lane} and
 * {@code spindrift_position}, which identify each record's lane and position (used for rejects). Kinesis adds
 * {@code subSequenceNumber} after the connector's columns: a KPL-aggregated user record's index in its aggregate
 * (null for a record that was not aggregated); its {@code spindrift_position} is then {@code <sequenceNumber>/<sub>}.
 */
public enum SourceKind {
  /** Kinesis: the awslabs Spark Kinesis connector's schema, then {@code subSequenceNumber}. */
  KINESIS(new StructType()
      .add("data", BinaryType)
      .add("streamName", StringType)
      .add("partitionKey", StringType)
      .add("sequenceNumber", StringType)
      .add("approximateArrivalTimestamp", TimestampType)
      .add("subSequenceNumber", LongType, true)),
  /** MSK / Kafka: Spark's Kafka source schema, with headers. */
  KAFKA(new StructType()
      .add("key", BinaryType)
      .add("value", BinaryType)
      .add("topic", StringType)
      .add("partition", IntegerType)
      .add("offset", LongType)
      .add("timestamp", TimestampType)
      .add("timestampType", IntegerType)
      .add("headers", new ArrayType(new StructType().add("key", StringType).add("value", BinaryType), true)));

  public static final String LANE_COLUMN = "spindrift_lane";
  public static final String POSITION_COLUMN = "spindrift_position";

  private final StructType schema;

  SourceKind(StructType connectorSchema) {
    this.schema = connectorSchema
        .add(LANE_COLUMN, DataTypes.StringType, false)
        .add(POSITION_COLUMN, DataTypes.StringType, false);
  }

  /** The input schema of a job reading this source. */
  public StructType schema() {
    return schema;
  }

  /** The column that holds the record's payload. */
  public String payloadColumn() {
    return this == KINESIS ? "data" : "value";
  }
}
