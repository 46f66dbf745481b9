package io.spindrift.registry;

/** A writer schema the registry did not serve (unknown id, registry unreachable); the message is the reject reason. */
final class SchemaUnavailableException extends RuntimeException {
  SchemaUnavailableException(String message) {
    super(message);
  }
}
