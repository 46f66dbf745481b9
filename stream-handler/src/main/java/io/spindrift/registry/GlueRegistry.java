package io.spindrift.registry;

import java.util.UUID;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.glue.GlueClient;
import software.amazon.awssdk.services.glue.model.EntityNotFoundException;
import software.amazon.awssdk.services.glue.model.GetSchemaVersionResponse;

/**
 * The AWS Glue Schema Registry through Glue's {@code GetSchemaVersion}: by schema version id (what a framed payload
 * carries) or a schema's latest version (a reader schema).
 */
final class GlueRegistry {
  private final GlueClient glue;

  GlueRegistry(GlueClient glue) {
    this.glue = glue;
  }

  /**
   * Returns the schema version {@code id}.
   *
   * @throws SchemaUnavailableException if Glue does not know it or cannot be called
   */
  RegisteredSchema schema(UUID id) {
    String what = "Glue schema version " + id;
    try {
      return registered(glue.getSchemaVersion(r -> r.schemaVersionId(id.toString())));
    } catch (EntityNotFoundException e) {
      throw new SchemaUnavailableException(what + ": unknown to the Glue Schema Registry");
    } catch (SdkException e) {
      throw new SchemaUnavailableException(what + ": the Glue Schema Registry cannot be read (" + e.getMessage() + ")");
    }
  }

  /** Returns the latest version of schema {@code schemaName} in registry {@code registryName}; throws as above. */
  RegisteredSchema latest(String registryName, String schemaName) {
    String what = "Glue schema " + registryName + "/" + schemaName;
    try {
      return registered(glue.getSchemaVersion(r -> r.schemaId(s -> s.registryName(registryName)
          .schemaName(schemaName)).schemaVersionNumber(v -> v.latestVersion(true))));
    } catch (EntityNotFoundException e) {
      throw new SchemaUnavailableException(what + ": unknown to the Glue Schema Registry");
    } catch (SdkException e) {
      throw new SchemaUnavailableException(what + ": the Glue Schema Registry cannot be read (" + e.getMessage() + ")");
    }
  }

  private static RegisteredSchema registered(GetSchemaVersionResponse response) {
    return new RegisteredSchema(response.schemaDefinition(), response.dataFormatAsString());
  }
}
