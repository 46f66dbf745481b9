package io.spindrift.sink.hudi;

import io.spindrift.config.Setting;
import io.spindrift.sink.SinkContext;
import java.util.Locale;
import org.apache.hudi.common.model.HoodieTableType;

/**
 * What a Hudi table's sink and maintenance read from the runtime's settings, read once: the AWS side
 * ({@link AwsSettings}), the table type and metadata-table switch of a table Spindrift creates, and the DynamoDB
 * tables of Hudi's lock provider and of the per-table publish lease (names set by the CDK app).
 */
record HudiSettings(AwsSettings aws, HoodieTableType tableType, boolean metadataTable, String lockTable,
                    String leaseTable) {

  static HudiSettings from(SinkContext context) {
    return new HudiSettings(AwsSettings.from(context), tableType(context.setting(Setting.HUDI_TABLE_TYPE)),
        Boolean.parseBoolean(context.setting(Setting.HUDI_METADATA_TABLE)), context.setting(Setting.HUDI_LOCK_TABLE),
        context.setting(Setting.HUDI_LEASE_TABLE));
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
