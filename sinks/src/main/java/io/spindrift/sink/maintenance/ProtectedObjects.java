package io.spindrift.sink.maintenance;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * What no collector may delete (DESIGN §5, I7): every object a committed-but-unpublished commit references, by
 * normalized location ({@code bucket/key}, whatever the scheme: {@code s3://}, {@code s3a://} and {@code s3n://}
 * name the same object), plus whole stage directories ({@code <app>/stage/<id>/}) of those commits, and a time
 * bound: objects written at or after {@link #cutoffMs} are young enough to belong to a batch still in flight, whose
 * commit may not be in the log yet, and are kept as well.
 */
public final class ProtectedObjects {
  private final Set<String> objects;
  private final Set<String> directories;
  private final long cutoffMs;

  /**
   * @param objects referenced objects (any scheme; normalized here)
   * @param directories directory prefixes kept whole (any scheme; normalized here, with a trailing slash)
   * @param cutoffMs objects last modified at or after this time (epoch ms) are kept
   */
  public ProtectedObjects(Collection<String> objects, Collection<String> directories, long cutoffMs) {
    Set<String> normalized = new HashSet<>();
    objects.forEach(o -> normalized.add(normalize(o)));
    Set<String> dirs = new HashSet<>();
    directories.forEach(d -> dirs.add(normalize(d).replaceAll("/*$", "/")));
    this.objects = Set.copyOf(normalized);
    this.directories = Set.copyOf(dirs);
    this.cutoffMs = cutoffMs;
  }

  /** {@code bucket/key} of a location: the scheme and any repeated or trailing slashes taken off. */
  public static String normalize(String location) {
    String withoutScheme = location.replaceFirst("^[A-Za-z][A-Za-z0-9+.-]*:/+", "");
    return withoutScheme.replaceAll("(?<!^)/{2,}", "/").replaceAll("/$", "");
  }

  /** True if the object at {@code location} must be kept whatever its age. */
  public boolean isReferenced(String location) {
    String key = normalize(location);
    if (objects.contains(key)) {
      return true;
    }
    for (String directory : directories) {
      if (key.startsWith(directory)) {
        return true;
      }
    }
    return false;
  }

  /** True if the object may be deleted: not referenced, and last modified before the cutoff. */
  public boolean mayDelete(String location, long lastModifiedMs) {
    return lastModifiedMs < cutoffMs && !isReferenced(location);
  }

  /** Objects older than this (epoch ms) may be collected, unless referenced. */
  public long cutoffMs() {
    return cutoffMs;
  }

  /** The referenced objects, normalized. */
  public Set<String> objects() {
    return objects;
  }

  /** The kept directories, normalized, each ending with a slash. */
  public Set<String> directories() {
    return directories;
  }

  @Override
  public String toString() {
    return "ProtectedObjects[" + objects.size() + " objects, " + directories.size() + " directories, cutoff "
        + java.time.Instant.ofEpochMilli(cutoffMs) + "]";
  }
}
