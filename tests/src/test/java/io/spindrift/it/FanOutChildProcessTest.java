package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.fanout.FanOutMicroBatch;
import io.spindrift.fanout.LocalProcessInvoker;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.protocol.InjectedCrash;
import io.spindrift.runtime.RuntimeHooks;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fan-out to real child processes (DESIGN §8): two warm child JVMs ({@link LocalProcessInvoker}) that share nothing
 * with the parent but the local stack's S3 and DynamoDB. A child killed with SIGKILL mid-map or mid-reduce, a child
 * frozen (SIGSTOP) into a straggler that is re-issued and later runs its task a second time, and a parent that dies
 * after its children finished: each time the table holds every record exactly once (totals).
 */
class FanOutChildProcessTest {
  private static LocalProcessInvoker children;

  @BeforeAll
  static void startChildren() {
    children = new LocalProcessInvoker(LocalPipeline.config(TestPipeline.stack(), Map.of()).asMap(), 2);
  }

  @AfterAll
  static void stopChildren() {
    if (children != null) {
      children.close();
    }
  }

  private static SpindriftConfig config(String app, String job, int recordsPerChild) {
    Map<String, String> settings = new HashMap<>();
    settings.put("SPINDRIFT_APP", app);
    settings.put("SPINDRIFT_JOB", job);
    settings.put("SPINDRIFT_SINK_TABLE", "it." + app);
    settings.put(Setting.FANOUT.key(), "always");
    settings.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), Integer.toString(recordsPerChild));
    settings.put(Setting.FANOUT_STRAGGLER_FACTOR.key(), "3");
    return LocalPipeline.config(TestPipeline.stack(), settings);
  }

  private static SpindriftRuntime parent(SpindriftConfig config) {
    return SpindriftRuntime.create(config, children.forSettings(config.asMap()));
  }

  private static void assertExactlyOnce(SpindriftRuntime runtime, String app, long records) {
    String table = "it." + app;
    assertThat(TestPipeline.count(runtime, table) + TestPipeline.count(runtime, table + "_rejects"))
        .as("rows and rejects of %s", table).isEqualTo(records);
    assertThat(TestPipeline.distinctEvents(runtime, table)).isEqualTo(TestPipeline.count(runtime, table));
  }

  /** Processes {@code batch} on another thread while {@code whileRunning} acts on a busy child. */
  private static BatchOutcome processWhile(SpindriftRuntime runtime, List<SourceRecord> batch, String signal)
      throws Exception {
    CompletableFuture<BatchOutcome> outcome = CompletableFuture.supplyAsync(
        () -> runtime.process(new Batch(SourceKind.KINESIS, batch)));
    long pid = busyChild(outcome);
    signal(pid, signal);
    return outcome.get(5, TimeUnit.MINUTES);
  }

  private static long busyChild(CompletableFuture<?> running) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline) {
      List<Long> busy = children.busyPids();
      if (!busy.isEmpty()) {
        return busy.get(0);
      }
      assertThat(running).isNotDone();
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("No child became busy");
  }

  private static void signal(long pid, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor()).isZero();
  }

  @Test
  void aChildKilledMidMapIsRetriedAndTheBatchCommitsOnce() throws Exception {
    String app = TestPipeline.uniqueApp("fanproc_kill");
    try (SpindriftRuntime runtime = parent(config(app, Clickstream.class.getName(), 100))) {
      runtime.process(new Batch(SourceKind.KINESIS, FanOutTest.events("clicks", 0, 200, true)));
      BatchOutcome outcome = processWhile(runtime, FanOutTest.events("clicks", 200, 600, true), "KILL");
      FanOutMicroBatch.FanOutReport report = runtime.lastFanOut(SourceKind.KINESIS);
      assertThat(report.plan().splits()).isEqualTo(6);
      assertThat(report.invocations()).as("the killed child's task ran again").isGreaterThan(6);
      assertThat(outcome.records()).isEqualTo(600);
      assertExactlyOnce(runtime, app, 800);
    }
  }

  @Test
  void aFrozenStragglerIsReissuedAndItsLateSecondRunChangesNothing() throws Exception {
    String app = TestPipeline.uniqueApp("fanproc_slow");
    try (SpindriftRuntime runtime = parent(config(app, Clickstream.class.getName(), 100))) {
      runtime.process(new Batch(SourceKind.KINESIS, FanOutTest.events("clicks", 0, 200, true)));
      // a child frozen now (SIGSTOP) takes its share of the next batch's tasks and answers none until thawed
      long frozen = children.pids().get(0);
      signal(frozen, "STOP");
      try {
        BatchOutcome outcome = runtime.process(new Batch(SourceKind.KINESIS, FanOutTest.events("clicks", 200, 1000,
            true)));
        assertThat(outcome.records()).isEqualTo(1000);
      } finally {
        signal(frozen, "CONT");
      }
      FanOutMicroBatch.FanOutReport report = runtime.lastFanOut(SourceKind.KINESIS);
      assertThat(report.reissued()).isGreaterThanOrEqualTo(1);
      // the frozen child now finishes its task too (a second run of it): its stage is never committed
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!children.busyPids().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      runtime.process(new Batch(SourceKind.KINESIS, FanOutTest.events("clicks", 1200, 200, true)));
      assertExactlyOnce(runtime, app, 1400);
    }
  }

  @Test
  void aParentThatDiesAfterItsChildrenFinishedIsRetriedAndReusesTheirResults() {
    String app = TestPipeline.uniqueApp("fanproc_parent");
    // no straggler re-issue (a loaded machine may make one child slow): the test counts invocations
    SpindriftConfig config = config(app, Clickstream.class.getName(), 150)
        .with(Map.of(Setting.FANOUT_STRAGGLER_FACTOR.key(), "1000"));
    List<SourceRecord> batch = FanOutTest.events("clicks", 0, 450, true);
    try (SpindriftRuntime dying = parent(config)) {
      RuntimeHooks.faults(dying).arm(FaultPoint.AFTER_STAGE, 1);
      assertThatThrownBy(() -> dying.process(new Batch(SourceKind.KINESIS, batch)))
          .isInstanceOf(InjectedCrash.class);
      assertThat(dying.lastFanOut(SourceKind.KINESIS).invocations()).isEqualTo(3);
    }
    try (SpindriftRuntime retry = parent(config)) {
      BatchOutcome outcome = retry.process(new Batch(SourceKind.KINESIS, batch));
      FanOutMicroBatch.FanOutReport report = retry.lastFanOut(SourceKind.KINESIS);
      assertThat(report.reused()).as("results found by key").isEqualTo(3);
      assertThat(report.invocations()).isZero();
      assertThat(outcome.seq()).isEqualTo(1);
      assertExactlyOnce(retry, app, 450);
      // and the same batch again is all duplicates
      assertThat(retry.process(new Batch(SourceKind.KINESIS, batch)).duplicates()).isEqualTo(450);
      assertExactlyOnce(retry, app, 450);
    }
  }

  @Test
  void aChildKilledMidReduceIsRetriedAndTheWindowsMatchSingleInvocations() throws Exception {
    String app = TestPipeline.uniqueApp("fanproc_reduce");
    String single = TestPipeline.uniqueApp("fanproc_oracle");
    try (SpindriftRuntime runtime = parent(config(app, PageViewCounts.class.getName(), 100));
        SpindriftRuntime oracle = TestPipeline.runtime(single, PageViewCounts.class.getName())) {
      long first = 0;
      for (int batch = 0; batch < 4; batch++) {
        List<SourceRecord> records = FanOutTest.events("views", first, 300, false);
        first += 300;
        oracle.process(new Batch(SourceKind.KINESIS, records));
        if (batch == 2) {
          processWhile(runtime, records, "KILL");
          assertThat(runtime.lastFanOut(SourceKind.KINESIS).invocations())
              .isGreaterThan(runtime.lastFanOut(SourceKind.KINESIS).plan().children());
        } else {
          runtime.process(new Batch(SourceKind.KINESIS, records));
        }
      }
      List<String> expected = FanOutTest.table(oracle, "it." + single);
      assertThat(expected).isNotEmpty();
      assertThat(FanOutTest.table(runtime, "it." + app)).isEqualTo(expected);
      assertThat(StateRows.of(runtime, app)).isEqualTo(StateRows.of(oracle, single));
    }
  }
}
