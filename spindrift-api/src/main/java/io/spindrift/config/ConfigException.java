package io.spindrift.config;

/** A setting is missing or has a bad value; the message names the setting and says what is expected. */
public final class ConfigException extends IllegalArgumentException {
  public ConfigException(Setting setting, String value, String expected) {
    super("Invalid " + setting.key() + ": '" + value + "' (" + expected + ")");
  }
}
