package io.spindrift.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Refuses names that look like settings but are none (a typo is otherwise silently ignored and the default used):
 * the message names the first unknown name, where it came from, and the closest known name when one is close.
 * Known names are the {@link Setting}s and the tools' {@link ToolVariable}s.
 */
final class UnknownSettings {
  static final String PREFIX = "SPINDRIFT_";

  private UnknownSettings() {}

  /**
   * Checks {@code names}.
   *
   * @param names the names to check
   * @param origin where they were read, for the message ("the environment", a file's path)
   * @param prefixedOnly true to check only names starting with {@code SPINDRIFT_} (an environment holds others);
   *     false to check every name (a properties file holds settings only)
   * @throws ConfigException naming the first unknown name (sorted) and the closest known one
   */
  static void refuse(Collection<String> names, String origin, boolean prefixedOnly) {
    names.stream()
        .filter(name -> !prefixedOnly || name.toUpperCase(Locale.ROOT).startsWith(PREFIX))
        .filter(name -> !known().contains(name))
        .sorted()
        .findFirst()
        .ifPresent(name -> {
          throw new ConfigException(message(name, origin));
        });
  }

  static String message(String name, String origin) {
    return "unknown setting " + name + " (from " + origin + ")" + closest(name)
        .map(known -> "; did you mean " + known + "?")
        .orElse("; the settings are listed in README.md's Configuration table");
  }

  /** The known name closest to {@code name} by edit distance (ignoring case and a missing prefix), if close. */
  static Optional<String> closest(String name) {
    String upper = name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    String prefixed = upper.startsWith(PREFIX) ? upper : PREFIX + upper;
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String known : known()) {
      int distance = distance(prefixed, known);
      if (distance < bestDistance) {
        best = known;
        bestDistance = distance;
      }
    }
    int allowed = Math.max(2, (prefixed.length() - PREFIX.length()) / 3);
    return bestDistance <= allowed ? Optional.of(best) : Optional.empty();
  }

  private static List<String> known() {
    List<String> names = new ArrayList<>();
    for (Setting setting : Setting.values()) {
      names.add(setting.key());
    }
    for (ToolVariable variable : ToolVariable.values()) {
      names.add(variable.key());
    }
    return names;
  }

  /** Levenshtein distance: insertions, deletions and substitutions, each 1. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
