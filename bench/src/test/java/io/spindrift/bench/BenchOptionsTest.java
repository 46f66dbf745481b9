package io.spindrift.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {
  private final Path repo = Path.of("/repo");

  @Test
  void quickRunTakesFewerSamplesThanTheFullRun() {
    BenchOptions quick = BenchOptions.parse(new String[] {"--quick"}, repo);
    BenchOptions full = BenchOptions.parse(new String[0], repo);

    assertThat(quick.reps()).isLessThan(full.reps());
    assertThat(quick.coldReps()).isLessThan(full.coldReps());
    assertThat(full.sizes()).containsExactly(1, 100, 1000, 10_000);
    assertThat(full.repsFor(10_000)).isEqualTo(full.bigReps());
    assertThat(full.appCdsArchive()).isEqualTo(repo.resolve("infra-cdk/image/build/task/cds/spindrift.jsa"));
  }

  @Test
  void optionsOverrideDefaults() {
    BenchOptions options =
        BenchOptions.parse(new String[] {"--sizes", "10, 20", "--reps", "3", "--cold-reps", "0"}, repo);

    assertThat(options.sizes()).isEqualTo(List.of(10, 20));
    assertThat(options.reps()).isEqualTo(3);
    assertThat(options.coldReps()).isZero();
  }

  @Test
  void badValuesAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--reps", "0"}, repo)).hasMessageContaining("--reps");
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--reps", "many"}, repo)).hasMessageContaining("'many'");
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--fast"}, repo)).hasMessageContaining("--fast");
  }
}
