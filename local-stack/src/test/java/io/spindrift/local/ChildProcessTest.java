package io.spindrift.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {
  @TempDir
  Path workDir;

  @Test
  void aChildThatDiesBeforeItIsReadyFailsFastWithItsLogNamedAndQuoted() {
    ChildProcess child = ChildProcess.start("crasher",
        List.of("bash", "-c", "echo 'cannot bind port' >&2; exit 3"), workDir);

    assertThatThrownBy(() -> child.awaitReady(Duration.ofMinutes(1), () -> false))
        .hasMessageContaining("crasher exited with code 3")
        .hasMessageContaining(workDir.resolve("crasher.log").toString())
        .hasMessageContaining("cannot bind port");
  }

  @Test
  void aChildThatNeverGetsReadyFailsAtTheDeadlineAndIsStoppable() {
    ChildProcess child = ChildProcess.start("sleeper", List.of("sleep", "60"), workDir);

    assertThatThrownBy(() -> child.awaitReady(Duration.ofMillis(300), () -> false))
        .hasMessageContaining("sleeper was not ready after");
    child.close();
    assertThat(ProcessHandle.of(child.pid()).filter(ProcessHandle::isAlive)).isEmpty();
  }

  @Test
  void aLogLineIsFoundEvenWhenItArrivesAcrossReads() throws Exception {
    ChildProcess child = ChildProcess.start("talker",
        List.of("bash", "-c", "printf 'Kafka Ser'; sleep 0.3; echo 'ver started'; sleep 60"), workDir);
    try {
      child.awaitReady(Duration.ofSeconds(10), () -> child.logContains("Kafka Server started"));
    } finally {
      child.close();
    }
  }
}
