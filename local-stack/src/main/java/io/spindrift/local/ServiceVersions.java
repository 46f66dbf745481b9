package io.spindrift.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Emulator versions, copied at build time from the parent pom's properties (the one place they are pinned). */
final class ServiceVersions {
  private static final String RESOURCE = "service-versions.properties";
  private static final Properties VERSIONS = load();

  private ServiceVersions() {}

  /** The version pinned under {@code property} in the parent pom, e.g. {@code kafka.broker.version}. */
  static String of(String property) {
    String version = VERSIONS.getProperty(property);
    if (version == null || version.startsWith("${")) {
      throw new IllegalStateException("No version for " + property + " in " + RESOURCE
          + ": rebuild local-stack with Maven so that resource filtering fills it in");
    }
    return version;
  }

  private static Properties load() {
    try (InputStream in = ServiceVersions.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing beside " + ServiceVersions.class.getName());
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RESOURCE, e);
    }
  }
}
