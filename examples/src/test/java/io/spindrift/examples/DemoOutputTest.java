package io.spindrift.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's terminal shows the demo; everything else goes to its log file; redirected progress is plain lines. */
class DemoOutputTest {
  @Test
  void printsLogsAndStackTracesGoToTheLogFileNotTheTerminal(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("demo.log");
    java.io.PrintStream before = System.out;
    try (DemoLog log = DemoLog.route(file, false)) {
      assertThat(log.terminal()).isSameAs(before);
      System.out.println("{\"app\":\"clickstream\",\"seq\":1}");
      System.err.println("WARN Base64: JAXB is unavailable");
      Logger.getLogger("io.spindrift.local.LocalStack").warning("Local stack up");
      new IllegalStateException("a library's stack trace").printStackTrace();
    }

    assertThat(System.out).isSameAs(before);
    assertThat(Files.readString(file)).contains("{\"app\":\"clickstream\",\"seq\":1}", "JAXB is unavailable",
        "Local stack up", "a library's stack trace");
  }

  @Test
  void verboseAlsoShowsTheLogsLiveOnStderr(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("demo.log");
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream live = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(live, true, java.nio.charset.StandardCharsets.UTF_8));
    try (DemoLog log = DemoLog.route(file, true)) {
      System.out.println("{\"app\":\"clickstream\",\"seq\":2}");
    } finally {
      System.setErr(stderr);
    }

    assertThat(live.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("\"seq\":2");
    assertThat(Files.readString(file)).contains("\"seq\":2");
  }

  @Test
  void redirectedProgressIsAFewPlainLinesWithoutControlCharacters() {
    StringWriter text = new StringWriter();
    try (DemoProgress progress = new DemoProgress.Lines("committed", "events", 2000, new PrintWriter(text, true), 0)) {
      for (long done = 0; done <= 2000; done += 10) {
        progress.update(done, RunReport.plural(done / 500, "invocation"));
      }
    }

    String[] lines = text.toString().split("\n");
    assertThat(lines).hasSize(4);
    assertThat(lines[0]).startsWith("  committed 500 / 2,000 events (25%)").endsWith(", 1 invocation");
    assertThat(lines[3]).startsWith("  committed 2,000 / 2,000 events (100%)").endsWith(", 4 invocations");
    assertThat(text.toString()).doesNotContain("\r", "\u001b");
  }

  @Test
  void aQuickTaskPrintsOnlyItsEndAndAnUnfinishedOneWhereItStopped() {
    StringWriter quick = new StringWriter();
    try (DemoProgress progress = DemoProgress.start("produced", "events", 1000, false, null,
        new PrintWriter(quick, true))) {
      for (long done = 1; done <= 1000; done++) {
        progress.update(done, "");
      }
    }
    StringWriter stopped = new StringWriter();
    try (DemoProgress progress = DemoProgress.start("committed", "events", 1000, false, null,
        new PrintWriter(stopped, true))) {
      progress.update(100, "1 invocation");
    }

    assertThat(quick.toString().split("\n")).singleElement().asString()
        .startsWith("  produced 1,000 / 1,000 events (100%) in ");
    assertThat(stopped.toString().split("\n")).singleElement().asString()
        .startsWith("  committed 100 / 1,000 events (10%) in ").endsWith(", 1 invocation");
  }

  @Test
  void aTableRowIsCutToOneLineOfAWideTerminal() {
    assertThat(RunReport.fitted("  a | b")).isEqualTo("  a | b");
    assertThat(RunReport.fitted("x".repeat(200))).hasSize(120).endsWith("...");
  }
}
