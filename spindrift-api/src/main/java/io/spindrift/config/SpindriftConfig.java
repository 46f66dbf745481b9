package io.spindrift.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Spindrift's configuration: {@link Setting}s read from environment variables, from an optional properties
 * file named by {@code SPINDRIFT_CONFIG_FILE} (the environment wins), or from a map (tests, local mode).
 * Every value is validated when the configuration is built, so a bad value fails the first invocation with
 * the setting's name rather than a batch later; so does an unknown {@code SPINDRIFT_*} name (a typo would otherwise
 * be ignored and the default used), naming the closest known setting. The tools' own variables
 * ({@link ToolVariable}) are allowed.
 */
public final class SpindriftConfig {
  private final Map<Setting, String> values;

  private SpindriftConfig(Map<Setting, String> values) {
    this.values = values;
    validate();
  }

  /** The configuration of a Lambda container: its environment, plus the properties file if one is named. */
  public static SpindriftConfig fromEnvironment() {
    return of(System.getenv(), "the environment");
  }

  /**
   * A configuration from {@code SPINDRIFT_*} keys (other keys are ignored); absent ones take defaults.
   *
   * @throws ConfigException for an unknown {@code SPINDRIFT_*} key or an unknown key of the properties file
   */
  public static SpindriftConfig of(Map<String, String> source) {
    return of(source, "the settings given");
  }

  /**
   * As {@link #of(Map)}; {@code origin} says where {@code source} was read (e.g. "the environment"), for the
   * message of an unknown key.
   */
  public static SpindriftConfig of(Map<String, String> source, String origin) {
    UnknownSettings.refuse(source.keySet(), origin, true);
    Map<String, String> merged = new HashMap<>();
    String file = source.get(Setting.CONFIG_FILE.key());
    if (file != null && !file.isBlank()) {
      Map<String, String> fromFile = readProperties(file);
      UnknownSettings.refuse(fromFile.keySet(), file, false);
      merged.putAll(fromFile);
    }
    merged.putAll(source);
    Map<Setting, String> values = new EnumMap<>(Setting.class);
    for (Setting setting : Setting.values()) {
      String value = merged.get(setting.key());
      values.put(setting, value == null ? setting.defaultValue() : value.trim());
    }
    return new SpindriftConfig(values);
  }

  /** The known name (a {@link Setting} or {@link ToolVariable}) closest to {@code name}, if one is close. */
  public static java.util.Optional<String> closestSetting(String name) {
    return UnknownSettings.closest(name);
  }

  private static Map<String, String> readProperties(String file) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(file))) {
      properties.load(reader);
    } catch (IOException e) {
      throw new ConfigException(Setting.CONFIG_FILE, file, "cannot read it: " + e.getMessage());
    }
    Map<String, String> out = new HashMap<>();
    properties.stringPropertyNames().forEach(name -> out.put(name, properties.getProperty(name)));
    return out;
  }

  private void validate() {
    if (!app().matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}")) {
      throw new ConfigException(Setting.APP, app(), "letters, digits, '-' and '_', at most 63 characters");
    }
    if (bucket().isBlank()) {
      throw new ConfigException(Setting.BUCKET, bucket(), "a bucket name is required");
    }
    if (job().isBlank()) {
      throw new ConfigException(Setting.JOB, job(), "a StreamJob class name or a .sql file location");
    }
    positiveInt(Setting.SHUFFLE_PARTITIONS);
    String retention = get(Setting.STATE_RETENTION_HOURS);
    if (!retention.matches("\\d{1,6}")) {
      throw new ConfigException(Setting.STATE_RETENTION_HOURS, retention, "a whole number of hours, 0 for none");
    }
    positiveInt(Setting.MAX_COMMIT_ATTEMPTS);
    int factor = positiveInt(Setting.PARALLELIZATION_FACTOR);
    if (factor != 1) {
      throw parallelizationRefused(get(Setting.PARALLELIZATION_FACTOR), null);
    }
    String catalog = catalog();
    if (!catalog.equals("dynamodb") && !catalog.equals("glue") && !catalog.equals("rest")) {
      throw new ConfigException(Setting.CATALOG, catalog, "dynamodb, glue or rest");
    }
    if (catalog.equals("rest") && get(Setting.CATALOG_URI).isBlank()) {
      throw new ConfigException(Setting.CATALOG_URI, "", "required when SPINDRIFT_CATALOG=rest");
    }
    String format = get(Setting.SINK_FORMAT);
    if (!format.isBlank() && !format.matches("(?i)iceberg|delta|hudi")) {
      throw new ConfigException(Setting.SINK_FORMAT, format, "iceberg, delta or hudi");
    }
    String mode = get(Setting.SINK_MODE);
    if (!mode.isBlank() && !mode.matches("(?i)append|upsert")) {
      throw new ConfigException(Setting.SINK_MODE, mode, "append or upsert");
    }
    if (mode.equalsIgnoreCase("upsert") && get(Setting.SINK_KEYS).isBlank()) {
      throw new ConfigException(Setting.SINK_KEYS, "", "upsert needs the key columns (comma-separated)");
    }
    String keys = get(Setting.SINK_KEYS);
    if (!keys.isBlank() && !keys.matches("\\s*[A-Za-z_][A-Za-z0-9_]*\\s*(,\\s*[A-Za-z_][A-Za-z0-9_]*\\s*)*")) {
      throw new ConfigException(Setting.SINK_KEYS, keys, "comma-separated column names");
    }
    String tableType = get(Setting.HUDI_TABLE_TYPE);
    if (!tableType.matches("(?i)copy_on_write|merge_on_read")) {
      throw new ConfigException(Setting.HUDI_TABLE_TYPE, tableType, "COPY_ON_WRITE or MERGE_ON_READ");
    }
    positiveInt(Setting.DELTA_CHECKPOINT_INTERVAL);
    positiveInt(Setting.DELTA_UPSERT_REWRITE_MAX_MB);
    String metadataTable = get(Setting.HUDI_METADATA_TABLE);
    if (!metadataTable.matches("(?i)true|false")) {
      throw new ConfigException(Setting.HUDI_METADATA_TABLE, metadataTable, "true or false");
    }
    String archive = get(Setting.ARCHIVE);
    if (!archive.matches("(?i)true|false")) {
      throw new ConfigException(Setting.ARCHIVE, archive, "true or false");
    }
    String publish = get(Setting.PUBLISH);
    if (!publish.matches("(?i)inline|deferred")) {
      throw new ConfigException(Setting.PUBLISH, publish, "inline or deferred");
    }
    for (Setting endpoint : new Setting[] {Setting.S3_ENDPOINT, Setting.DYNAMODB_ENDPOINT}) {
      String value = get(endpoint);
      if (!value.isBlank() && !value.matches("https?://[^\\s/]+(:\\d+)?/?")) {
        throw new ConfigException(endpoint, value, "an http(s)://host:port URL");
      }
    }
  }

  private int positiveInt(Setting setting) {
    String value = get(setting);
    try {
      int parsed = Integer.parseInt(value);
      if (parsed < 1) {
        throw new ConfigException(setting, value, "a positive integer");
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new ConfigException(setting, value, "a positive integer");
    }
  }

  public String get(Setting setting) {
    return values.get(setting);
  }

  public int getInt(Setting setting) {
    try {
      return Integer.parseInt(get(setting).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(setting, get(setting), "not a whole number");
    }
  }

  public double getDouble(Setting setting) {
    try {
      return Double.parseDouble(get(setting).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(setting, get(setting), "not a number");
    }
  }

  public String app() {
    return get(Setting.APP);
  }

  public String job() {
    return get(Setting.JOB);
  }

  public String bucket() {
    return get(Setting.BUCKET);
  }

  public String region() {
    return get(Setting.REGION);
  }

  public String catalog() {
    return get(Setting.CATALOG).toLowerCase(java.util.Locale.ROOT);
  }

  public String warehouse() {
    String warehouse = get(Setting.WAREHOUSE);
    return warehouse.isBlank() ? "s3://" + bucket() + "/warehouse" : warehouse;
  }

  /**
   * The refusal of a Kinesis ParallelizationFactor above 1 (DESIGN §5), the same wherever the factor was read.
   *
   * @param factor the factor as read
   * @param readFrom where it was read when not from SPINDRIFT_PARALLELIZATION_FACTOR (an event-source mapping),
   *     else null
   * @return the exception to throw
   */
  public static ConfigException parallelizationRefused(String factor, String readFrom) {
    return new ConfigException(Setting.PARALLELIZATION_FACTOR, factor,
        "must be 1: with a factor above 1 one shard delivers interleaved concurrent batches and a single "
            + "position per shard would drop records; add shards instead"
            + (readFrom == null ? "" : "; read from " + readFrom));
  }

  /** Where staged output and stage documents of this app go. */
  public String stageLocation() {
    return "s3://" + bucket() + "/" + app() + "/stage";
  }

  /** Every setting by its {@code SPINDRIFT_*} name, defaults included. */
  public java.util.Map<String, String> asMap() {
    Map<String, String> out = new HashMap<>();
    values.forEach((setting, value) -> out.put(setting.key(), value));
    return out;
  }

  /** A copy with some settings replaced (tests, local mode). */
  public SpindriftConfig with(Map<String, String> overrides) {
    Map<String, String> source = asMap();
    source.putAll(overrides);
    return of(source);
  }
}
