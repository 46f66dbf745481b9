package io.spindrift.sink.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MaintenancePolicyTest {
  private static final long MIB = 1024 * 1024;

  @Test
  void smallFilesAreThoseBelowTheSettingAndNeverTheTargetSize() {
    assertThat(MaintenancePolicy.fromSettings(Map.of()).smallFileBytes()).isEqualTo(96 * MIB);
    assertThat(MaintenancePolicy.fromSettings(Map.of("SPINDRIFT_MAINTENANCE_SMALL_FILE_MB", "8")).smallFileBytes())
        .isEqualTo(8 * MIB);
    assertThat(MaintenancePolicy.fromSettings(Map.of("SPINDRIFT_MAINTENANCE_TARGET_FILE_MB", "16")).smallFileBytes())
        .isEqualTo(16 * MIB);
  }

  @Test
  void aSmallFileThresholdBelowOneMibIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> MaintenancePolicy.fromSettings(Map.of("SPINDRIFT_MAINTENANCE_SMALL_FILE_MB", "0")))
        .hasMessageContaining("SPINDRIFT_MAINTENANCE_SMALL_FILE_MB");
  }
}
