package io.spindrift.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command line itself: help, and arguments refused before any service is reached. */
class SpindriftCliTest {
  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = SpindriftCli.run(Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpListsTheCommandsAndExitStatuses() {
    Run help = run("--help");

    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("Usage: spindrift", "replay", "status", "Exit status");
  }

  @Test
  void replayHelpDescribesEveryOperationalOption() {
    Run help = run("replay", "--help");

    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("--from", "--to", "--from-position", "--to-position", "--dry-run",
        "--rate-limit", "--parallelism", "--new-app", "--restart", "Examples:");
  }

  @Test
  void aCommandIsRequired() {
    Run none = run();

    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("replay, batch, status or maintain");
  }

  @Test
  void batchHelpDescribesItsInputAndSplits() {
    Run help = run("batch", "--help");

    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("--input", "--as", "--split-mb", "--fanout", "s3:<bucket>/<prefix>", "Examples:");
  }

  @Test
  void aBatchOverAnUnknownSchemaFailsNamingAs() {
    Run unknown = run("batch", "--input", "s3://bucket/prefix", "--as", "csv");

    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("--as");
  }

  @Test
  void maintainDescribesWhatItKeeps() {
    Run help = run("maintain", "--help");

    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("--app", "--json", "unpublished", "SPINDRIFT_MAINTENANCE_", "Examples:");
  }

  @Test
  void anEndBeforeTheStartFailsNamingTo() {
    Run backwards = run("replay", "--stream", "s", "--from", "2026-12-03T10:00:00Z", "--to", "2026-12-03");

    assertThat(backwards.code()).isEqualTo(2);
    assertThat(backwards.err()).contains("--to").contains("not after --from");
  }

  @Test
  void aTimeThatDoesNotParseFailsNamingTheOption() {
    Run bad = run("replay", "--stream", "s", "--to", "tomorrow");

    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--to: 'tomorrow' is not a time");
  }

  @Test
  void bothAStreamAndATopicAreRefused() {
    Run both = run("replay", "--stream", "s", "--topic", "t");

    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("--stream", "--topic");
  }

  @Test
  void aLaneEndingBeforeItsStartFailsNamingToPosition() {
    Run bad = run("replay", "--topic", "t", "--from-position", "0=100", "--to-position", "0=99");

    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--to-position").contains("lane 0");
  }

  @Test
  void zeroParallelismIsRefused() {
    Run bad = run("replay", "--topic", "t", "--parallelism", "0");

    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--parallelism");
  }

  @Test
  void aTopicNeedsBootstrapServers() {
    Run bad = run("replay", "--topic", "t");

    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--bootstrap-servers");
  }
}
