package io.spindrift.sink.hudi;

import io.spindrift.config.Setting;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import java.util.Locale;
import java.util.Map;
import org.apache.hudi.common.model.HoodieTableType;

/**
 * What a Hudi table's sink and maintenance read from the runtime's settings, read once: the AWS side
 * ({@link AwsSettings}), the table type and metadata-table switch of a table Spindrift creates, and the DynamoDB
 * tables of Hudi's lock provider and of the per-table publish lease (names set by the CDK app), the size below
 * which a publish adds inserts to an existing file ({@code smallFileBytes}, 0: never), and which of Hudi's write
 * clients publishes ({@code writeClient}), and how often a publish clusters ({@code clustering}).
 */
record HudiSettings(AwsSettings aws, HoodieTableType tableType, boolean metadataTable, String lockTable,
                    String leaseTable, long smallFileBytes, WriteClient writeClient, Clustering clustering) {

  /**
   * A publish's inline clustering: after {@code everyCommits} commits (0: never), base files below
   * {@code smallFileBytes} are rewritten into files of up to {@code targetFileBytes} (maintenance's sizes).
   */
  record Clustering(int everyCommits, long smallFileBytes, long targetFileBytes) {
    static Clustering from(SinkContext context) {
      MaintenancePolicy sizes = MaintenancePolicy.fromSettings(Map.of(
          Setting.MAINTENANCE_SMALL_FILE_MB.key(), context.setting(Setting.MAINTENANCE_SMALL_FILE_MB),
          Setting.MAINTENANCE_TARGET_FILE_MB.key(), context.setting(Setting.MAINTENANCE_TARGET_FILE_MB)));
      String every = context.setting(Setting.HUDI_CLUSTER_COMMITS);
      try {
        int commits = Integer.parseInt(every.trim());
        if (commits >= 0) {
          return new Clustering(commits, sizes.smallFileBytes(), sizes.targetFileBytes());
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException("Invalid " + Setting.HUDI_CLUSTER_COMMITS.key() + ": '" + every
          + "' (expected a whole number of commits, 0 or more)");
    }
  }

  /** Hudi's write client a publish goes through. */
  enum WriteClient {
    /** Hudi's Java client: the commit is written in the function's JVM, no Spark job ({@link JavaClientWriter}). */
    JAVA,
    /** Hudi's Spark client: the write and its lookups run as Spark jobs ({@link SparkClientWriter}). */
    SPARK
  }

  static HudiSettings from(SinkContext context) {
    return new HudiSettings(AwsSettings.from(context), tableType(context.setting(Setting.HUDI_TABLE_TYPE)),
        Boolean.parseBoolean(context.setting(Setting.HUDI_METADATA_TABLE)), context.setting(Setting.HUDI_LOCK_TABLE),
        context.setting(Setting.HUDI_LEASE_TABLE), smallFileBytes(context.setting(Setting.HUDI_SMALL_FILE_MB)),
        writeClient(context.setting(Setting.HUDI_WRITE_CLIENT)), Clustering.from(context));
  }

  private static WriteClient writeClient(String value) {
    try {
      return WriteClient.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid " + Setting.HUDI_WRITE_CLIENT.key() + ": '" + value
          + "' (expected java or spark)", e);
    }
  }

  private static long smallFileBytes(String value) {
    try {
      long mb = Long.parseLong(value.trim());
      if (mb >= 0) {
        return mb * 1024 * 1024;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("Invalid " + Setting.HUDI_SMALL_FILE_MB.key() + ": '" + value
        + "' (expected a whole number of MiB, 0 or more)");
  }

  private static HoodieTableType tableType(String value) {
    try {
      return HoodieTableType.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid " + Setting.HUDI_TABLE_TYPE.key() + ": '" + value
          + "' (expected COPY_ON_WRITE or MERGE_ON_READ)", e);
    }
  }
}
