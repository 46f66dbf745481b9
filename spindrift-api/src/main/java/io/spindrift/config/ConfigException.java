package io.spindrift.config;

/**
 * A setting is missing, unknown or has a bad value; the message names the setting and says what is expected (for
 * an unknown name, the closest known one).
 */
public final class ConfigException extends IllegalArgumentException {
  public ConfigException(Setting setting, String value, String expected) {
    super("Invalid " + setting.key() + ": '" + value + "' (" + expected + ")");
  }

  ConfigException(String message) {
    super(message);
  }
}
