package io.spindrift.registry;

import java.util.UUID;

/** The writer schema a framed payload names: a Confluent registry's schema id or a Glue schema version id. */
sealed interface SchemaRef {
  /** A schema id of a Confluent-compatible registry ({@code GET /schemas/ids/{id}}). */
  record ConfluentId(int id) implements SchemaRef {
    @Override
    public String toString() {
      return "Confluent schema id " + id;
    }
  }

  /** A schema version id of the AWS Glue Schema Registry ({@code GetSchemaVersion}). */
  record GlueVersion(UUID id) implements SchemaRef {
    @Override
    public String toString() {
      return "Glue schema version " + id;
    }
  }
}
