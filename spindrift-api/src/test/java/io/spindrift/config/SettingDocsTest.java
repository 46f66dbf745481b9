package io.spindrift.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Every setting has one name in code, env and docs: the README's configuration table lists each one. */
class SettingDocsTest {
  @Test
  void readmeDocumentsEverySettingWithItsDefault() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (Setting setting : Setting.values()) {
      String expectedDefault = setting.defaultValue().isEmpty() ? "(empty)" : "`" + setting.defaultValue() + "`";
      assertThat(readme).as(setting.key()).contains("| `" + setting.key() + "` | " + expectedDefault + " |");
    }
  }

  @Test
  void readmeListsEveryToolVariableTheUnknownSettingCheckAllows() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (ToolVariable variable : ToolVariable.values()) {
      assertThat(readme).as(variable.key()).contains("`" + variable.key() + "`");
    }
  }
}
