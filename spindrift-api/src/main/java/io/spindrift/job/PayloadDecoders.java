package io.spindrift.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Decodes binary payloads behind a schema registry into columns of the job's schema: what {@link
 * JobContext#parseAvro} and {@link JobContext#parseProtobuf} build on. The Spindrift runtime supplies it (schemas
 * fetched by id from a Confluent-compatible registry or the AWS Glue Schema Registry, cached per container); a job
 * never implements it.
 *
 * <p>Each method returns its input with the column {@code column}, {@code struct<value: struct<…>, error: string>}
 * (and perhaps working columns named {@code _spindrift_*}): {@code value} is the decoded record (null when it could not be decoded) and {@code error} says why not, naming the schema id the
 * payload carries (an unknown id, a registry that cannot be reached, a payload that is not framed by a registry,
 * truncated or not decodable). A null or empty payload gives a null struct.
 */
public interface PayloadDecoders {
  /**
   * Avro payloads, each decoded with its writer schema (by the id in its framing) and resolved against {@code
   * readerSchema} (Avro schema resolution: a writer with a new optional field reads as the reader's record).
   *
   * @param input the job's input
   * @param payload the binary payload column
   * @param readerSchema the reader schema: Avro schema JSON, or where to read it ({@code file:}, {@code s3://},
   *     {@code classpath:}, {@code registry:<subject>} for a Confluent subject's latest version)
   * @throws IllegalArgumentException if the reader schema cannot be read or is not Avro
   */
  Dataset<Row> avro(Dataset<Row> input, Column payload, String readerSchema, String column);

  /**
   * Protobuf payloads, decoded as {@code messageName} of the descriptor set at {@code descriptorSet} (the output of
   * {@code protoc --descriptor_set_out --include_imports}; {@code file:}, {@code s3://} or {@code classpath:}).
   * The writer schema's id is checked against the registry; Protobuf's own rules read a writer with fields the
   * reader does not know.
   *
   * @throws IllegalArgumentException if the descriptor set cannot be read or lacks {@code messageName}
   */
  Dataset<Row> protobuf(Dataset<Row> input, Column payload, String descriptorSet, String messageName, String column);
}
