package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The sweep after a publication: off the caller's thread, under the sink's publish lock, one queued at a time. */
class BackgroundSweepTest {
  private final Object publishing = new Object();

  @Test
  void aRequestReturnsWhileTheSweepRunsAndThePublishLockWaitsForIt() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger sweeps = new AtomicInteger();
    BackgroundSweep sweep = new BackgroundSweep("test-sweep", publishing, () -> {
      started.countDown();
      await(release);
      sweeps.incrementAndGet();
    });

    sweep.request();
    assertThat(started.await(10, TimeUnit.SECONDS)).as("the sweep started on its own thread").isTrue();
    assertThat(sweeps).hasValue(0);
    assertThat(sweep.await(50)).as("still running").isFalse();

    // a publish of the same sink takes the lock only once the sweep is done
    Thread publish = new Thread(() -> {
      synchronized (publishing) {
        assertThat(sweeps).as("the sweep ended before the publish took the lock").hasValue(1);
      }
    });
    publish.start();
    publish.join(200);
    assertThat(publish.isAlive()).as("the publish waits for the lock").isTrue();
    release.countDown();
    publish.join(10_000);
    assertThat(publish.isAlive()).isFalse();
    assertThat(sweep.await(10_000)).isTrue();
    assertThat(sweeps).hasValue(1);
  }

  @Test
  void requestsWhileOneIsQueuedJoinItAndALaterRequestRunsAgain() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger sweeps = new AtomicInteger();
    BackgroundSweep sweep = new BackgroundSweep("test-sweep-queued", publishing, () -> {
      await(release);
      sweeps.incrementAndGet();
    });
    synchronized (publishing) {
      // the first sweep waits for the lock held here; the requests after it find one queued or running
      sweep.request();
      awaitBlocked("test-sweep-queued");
      sweep.request(); // the first has started (blocked on the lock): this one is queued
      sweep.request(); // joins the queued one
      sweep.request();
      release.countDown();
    }
    assertThat(sweep.await(10_000)).isTrue();
    assertThat(sweeps).as("the running sweep and one queued after it").hasValue(2);

    sweep.request();
    assertThat(sweep.await(10_000)).isTrue();
    assertThat(sweeps).hasValue(3);
  }

  /** Waits until the thread named {@code name} is blocked on a monitor. */
  private static void awaitBlocked(String name) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.getName().equals(name) && t.getState() == Thread.State.BLOCKED)) {
      assertThat(System.nanoTime()).as("%s blocked on the lock", name).isLessThan(until);
      Thread.sleep(5);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
