package io.spindrift.registry;

/** A payload whose registry framing cannot be read; the message is the reject reason. */
final class FramingException extends RuntimeException {
  FramingException(String message) {
    super(message);
  }
}
