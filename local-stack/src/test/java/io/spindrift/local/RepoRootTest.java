package io.spindrift.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepoRootTest {
  @TempDir
  Path checkout;

  @Test
  void walksUpPastModulesThatNameTheParentOnlyAsTheirParent() throws IOException {
    Files.writeString(checkout.resolve("pom.xml"),
        "<project><artifactId>spindrift-parent</artifactId><modules><module>local-stack</module></modules></project>");
    Path module = Files.createDirectories(checkout.resolve("local-stack"));
    Files.writeString(module.resolve("pom.xml"),
        "<project><parent><artifactId>spindrift-parent</artifactId></parent><artifactId>local-stack</artifactId>"
            + "</project>");
    Path sources = Files.createDirectories(module.resolve("src/main/java"));

    assertThat(RepoRoot.above(sources)).isEqualTo(checkout);
  }

  @Test
  void namesTheSettingsToUseWhenNoCheckoutIsAbove() {
    assertThatThrownBy(() -> RepoRoot.above(checkout))
        .hasMessageContaining(RepoRoot.PROPERTY).hasMessageContaining(RepoRoot.ENVIRONMENT);
  }
}
