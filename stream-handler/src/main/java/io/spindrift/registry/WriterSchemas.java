package io.spindrift.registry;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.AwsClients;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The schemas registries served this container, by id: a registered schema never changes, so each id is fetched
 * once per container. An id the registry did not serve (unknown, or the registry unreachable) is remembered for
 * {@code SPINDRIFT_SCHEMA_REGISTRY_RETRY_SECONDS}, so a batch of such payloads costs one request, not one each;
 * after that the registry is asked again (a schema registered late, a registry back up).
 */
final class WriterSchemas {
  /** One cache per container and registry settings: the per-container holder of decoded schemas' sources. */
  private static final Map<RegistrySettings, WriterSchemas> CONTAINER = new ConcurrentHashMap<>();

  private final SpindriftConfig config;
  private final long retryNanos;
  private final Map<SchemaRef, RegisteredSchema> served = new ConcurrentHashMap<>();
  private final Map<SchemaRef, Failure> failed = new ConcurrentHashMap<>();
  private volatile ConfluentRegistry confluent;
  private volatile GlueRegistry glue;

  private record Failure(String reason, long retryAtNanos) {}

  private WriterSchemas(RegistrySettings settings) {
    this.config = settings.config();
    this.retryNanos = TimeUnit.SECONDS.toNanos(config.getInt(Setting.SCHEMA_REGISTRY_RETRY_SECONDS));
  }

  /** The container's cache for {@code settings}. */
  static WriterSchemas of(RegistrySettings settings) {
    return CONTAINER.computeIfAbsent(settings, WriterSchemas::new);
  }

  /**
   * Returns the writer schema {@code ref} names.
   *
   * @throws SchemaUnavailableException naming the id and why the registry did not serve it
   */
  RegisteredSchema fetch(SchemaRef ref) {
    RegisteredSchema schema = served.get(ref);
    if (schema != null) {
      return schema;
    }
    Failure failure = failed.get(ref);
    if (failure != null && System.nanoTime() - failure.retryAtNanos() < 0) {
      throw new SchemaUnavailableException(failure.reason());
    }
    try {
      schema = ref instanceof SchemaRef.ConfluentId id ? confluent(ref).schema(id.id())
          : glue().schema(((SchemaRef.GlueVersion) ref).id());
    } catch (SchemaUnavailableException e) {
      failed.put(ref, new Failure(e.getMessage(), System.nanoTime() + retryNanos));
      throw e;
    }
    served.put(ref, schema);
    failed.remove(ref);
    return schema;
  }

  /** Returns the latest schema of a Confluent subject (a reader schema; not cached). */
  RegisteredSchema latestConfluent(String subject) {
    return confluent("Confluent subject '" + subject + "'").latest(subject);
  }

  /** Returns the latest schema of a Glue registry's schema (a reader schema; not cached). */
  RegisteredSchema latestGlue(String registryName, String schemaName) {
    return glue().latest(registryName, schemaName);
  }

  private ConfluentRegistry confluent(Object what) {
    String url = config.get(Setting.SCHEMA_REGISTRY_URL);
    if (url.isBlank()) {
      throw new SchemaUnavailableException(what + ": no Confluent schema registry is configured (set "
          + Setting.SCHEMA_REGISTRY_URL.key() + ")");
    }
    if (confluent == null) {
      confluent = new ConfluentRegistry(url);
    }
    return confluent;
  }

  private GlueRegistry glue() {
    if (glue == null) {
      synchronized (this) {
        if (glue == null) {
          glue = new GlueRegistry(AwsClients.glue(config));
        }
      }
    }
    return glue;
  }
}
