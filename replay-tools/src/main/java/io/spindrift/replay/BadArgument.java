package io.spindrift.replay;

/** A command-line argument or setting that cannot work; the message starts with its name. Exit status 2. */
final class BadArgument extends RuntimeException {
  BadArgument(String message) {
    super(message);
  }

  BadArgument(String message, Throwable cause) {
    super(message, cause);
  }
}
