package io.spindrift.sink.maintenance;

import io.spindrift.config.Setting;
import java.time.Duration;
import java.util.Map;

/**
 * Thresholds and retention of a maintenance run, from the {@code SPINDRIFT_MAINTENANCE_*} settings.
 *
 * @param targetFileBytes the size compaction writes files of (Iceberg bin-pack, Delta OPTIMIZE, Hudi clustering)
 * @param minInputFiles small files a group (Iceberg) or a partition (Hudi) needs before it is compacted
 * @param snapshotRetention history kept: Iceberg snapshots and Hudi file versions younger than this survive
 * @param retainSnapshots Iceberg snapshots always kept, however old
 * @param orphanMinAge untracked files (Iceberg orphans, stage objects of no unpublished commit) younger than this
 *     are kept: a batch in flight may still commit them. At least a Lambda's longest run (15 minutes)
 * @param vacuumRetention Delta VACUUM's retention: files removed from the table longer ago than this are deleted
 * @param smallFileBytes files below this size are compacted (Hudi clustering); at most the target size
 */
public record MaintenancePolicy(long targetFileBytes, int minInputFiles, Duration snapshotRetention,
    int retainSnapshots, Duration orphanMinAge, Duration vacuumRetention, long smallFileBytes) {
  /** A batch stages, commits and responds within one invocation: at most 15 minutes (Lambda's limit). */
  public static final Duration LONGEST_INVOCATION = Duration.ofMinutes(15);

  public MaintenancePolicy {
    if (targetFileBytes < 1 || minInputFiles < 1 || retainSnapshots < 1 || snapshotRetention.isNegative()
        || orphanMinAge.isNegative() || vacuumRetention.isNegative() || smallFileBytes < 1
        || smallFileBytes > targetFileBytes) {
      throw new IllegalArgumentException("Invalid maintenance policy: " + targetFileBytes + " target bytes, "
          + minInputFiles + " min input files, " + retainSnapshots + " retained snapshots, retention "
          + snapshotRetention + ", orphan age " + orphanMinAge + ", vacuum " + vacuumRetention + ", small files below "
          + smallFileBytes + " bytes");
    }
  }

  /** A policy whose small files are those below three quarters of the target size. */
  public MaintenancePolicy(long targetFileBytes, int minInputFiles, Duration snapshotRetention, int retainSnapshots,
      Duration orphanMinAge, Duration vacuumRetention) {
    this(targetFileBytes, minInputFiles, snapshotRetention, retainSnapshots, orphanMinAge, vacuumRetention,
        Math.max(1, targetFileBytes / 4 * 3));
  }

  /**
   * The policy the settings give. An orphan age or VACUUM retention below one hour is refused naming the setting:
   * a batch in flight writes its files before its commit exists, and only their age protects them until then.
   */
  public static MaintenancePolicy fromSettings(Map<String, String> settings) {
    long targetFileBytes = positive(settings, Setting.MAINTENANCE_TARGET_FILE_MB, 1) * 1024 * 1024;
    // a file of the target size is not small, whatever the threshold says
    long smallFileBytes = Math.min(targetFileBytes,
        positive(settings, Setting.MAINTENANCE_SMALL_FILE_MB, 1) * 1024 * 1024);
    return new MaintenancePolicy(
        targetFileBytes,
        (int) positive(settings, Setting.MAINTENANCE_MIN_INPUT_FILES, 2),
        Duration.ofHours(positive(settings, Setting.MAINTENANCE_SNAPSHOT_RETENTION_HOURS, 0)),
        (int) positive(settings, Setting.MAINTENANCE_RETAIN_SNAPSHOTS, 1),
        Duration.ofHours(positive(settings, Setting.MAINTENANCE_ORPHAN_MIN_AGE_HOURS, 1)),
        Duration.ofHours(positive(settings, Setting.MAINTENANCE_VACUUM_RETENTION_HOURS, 1)),
        smallFileBytes);
  }

  private static long positive(Map<String, String> settings, Setting setting, long minimum) {
    String value = settings.getOrDefault(setting.key(), "");
    value = value.isBlank() ? setting.defaultValue() : value.trim();
    long parsed;
    try {
      parsed = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Invalid " + setting.key() + ": '" + value + "' (expected a whole number)", e);
    }
    if (parsed < minimum) {
      throw new IllegalArgumentException("Invalid " + setting.key() + ": " + parsed + " (at least " + minimum
          + (setting == Setting.MAINTENANCE_ORPHAN_MIN_AGE_HOURS || setting == Setting.MAINTENANCE_VACUUM_RETENTION_HOURS
              ? ": files of a batch still in flight are protected by their age alone until its commit exists)" : ")"));
    }
    return parsed;
  }
}
