package io.spindrift.sink.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProtectedObjectsTest {
  private final ProtectedObjects keep = new ProtectedObjects(
      List.of("s3://b/warehouse/ns/t/data/spindrift-t1-00000.parquet"), List.of("s3a://b/app/stage/t1"), 1_000);

  @Test
  void anObjectIsTheSameWhateverTheSchemeNamesIt() {
    assertThat(keep.isReferenced("s3a://b/warehouse/ns/t/data/spindrift-t1-00000.parquet")).isTrue();
    assertThat(keep.isReferenced("s3n://b//warehouse/ns/t/data/spindrift-t1-00000.parquet")).isTrue();
    assertThat(keep.isReferenced("b/warehouse/ns/t/data/spindrift-t1-00000.parquet")).isTrue();
    assertThat(keep.isReferenced("s3://b/warehouse/ns/t/data/spindrift-t2-00000.parquet")).isFalse();
  }

  @Test
  void aKeptDirectoryKeepsEverythingUnderItAndNothingBeside() {
    assertThat(keep.isReferenced("s3://b/app/stage/t1/commit-stages.json")).isTrue();
    assertThat(keep.isReferenced("s3://b/app/stage/t1/state-deltas.bin")).isTrue();
    assertThat(keep.isReferenced("s3://b/app/stage/t10/commit-stages.json")).isFalse();
  }

  @Test
  void onlyUnreferencedObjectsOlderThanTheCutoffMayBeDeleted() {
    assertThat(keep.mayDelete("s3://b/app/stage/t2/x.parquet", 999)).isTrue();
    assertThat(keep.mayDelete("s3://b/app/stage/t2/x.parquet", 1_000)).isFalse();
    assertThat(keep.mayDelete("s3://b/app/stage/t1/x.parquet", 0)).isFalse();
  }

  @Test
  void anOrphanAgeOrVacuumRetentionBelowAnHourIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> MaintenancePolicy.fromSettings(Map.of("SPINDRIFT_MAINTENANCE_ORPHAN_MIN_AGE_HOURS", "0")))
        .hasMessageContaining("SPINDRIFT_MAINTENANCE_ORPHAN_MIN_AGE_HOURS").hasMessageContaining("in flight");
    assertThatThrownBy(() -> MaintenancePolicy.fromSettings(Map.of("SPINDRIFT_MAINTENANCE_VACUUM_RETENTION_HOURS", "x")))
        .hasMessageContaining("SPINDRIFT_MAINTENANCE_VACUUM_RETENTION_HOURS");
    MaintenancePolicy defaults = MaintenancePolicy.fromSettings(Map.of());
    assertThat(defaults.orphanMinAge()).isGreaterThan(MaintenancePolicy.LONGEST_INVOCATION);
    assertThat(defaults.targetFileBytes()).isEqualTo(128L * 1024 * 1024);
  }
}
