package io.spindrift.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.event.SourceKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The tree of invokes on threads: every node invokes its children concurrently, at most its invoker's concurrency
 * at once; no node has more children than the tree's size; the answers of every task under a node arrive in task
 * order, a failed task or a failed launcher answering errors for its tasks alone.
 */
class InvokeTreeTest {
  private final ExecutorService containers = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "container");
    thread.setDaemon(true);
    return thread;
  });

  @AfterEach
  void stop() {
    containers.shutdownNow();
  }

  private static ChildTask task(int index) {
    return new ChildTask("app", SourceKind.KINESIS, "ex", ChildTask.Role.MAP, index, null, null, 0, 0, List.of(), 0,
        -1, null, 0, List.of(), null, null);
  }

  private static List<ChildTask> tasks(int n) {
    return IntStream.range(0, n).mapToObj(InvokeTreeTest::task).toList();
  }

  /** What a task does in a container: its response, given the task. */
  private interface Work {
    String run(ChildTask task) throws Exception;
  }

  /**
   * Lambda on threads: each invoke runs in a container of its own; a launcher runs {@link InvokeTree#launch} with
   * an invoker of this concurrency, as {@code ChildRuns} does. Records when each task ran (start and end, in ns).
   */
  private final class Containers implements ChildInvoker {
    private final int concurrency;
    private final Work work;
    private final Set<Integer> failingLaunchers;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger mostRunning = new AtomicInteger();
    private final ConcurrentHashMap<Integer, long[]> ran = new ConcurrentHashMap<>();
    private final AtomicInteger launched = new AtomicInteger();
    private final AtomicInteger mostChildren = new AtomicInteger();

    Containers(int concurrency, Work work, Set<Integer> failingLaunchers) {
      this.concurrency = concurrency;
      this.work = work;
      this.failingLaunchers = failingLaunchers;
    }

    @Override
    public CompletableFuture<String> invoke(ChildTask task) {
      if (task.role() == ChildTask.Role.LAUNCH) {
        if (failingLaunchers.contains(InvokeTree.leaves(task).get(0).index())) {
          return CompletableFuture.failedFuture(new IllegalStateException("launcher died"));
        }
        return CompletableFuture.supplyAsync(() -> launch(task), containers);
      }
      return CompletableFuture.supplyAsync(() -> {
        long start = System.nanoTime();
        mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
          return work.run(task);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        } finally {
          running.decrementAndGet();
          ran.put(task.index(), new long[] {start, System.nanoTime()});
        }
      }, containers);
    }

    String launch(ChildTask launcher) {
      launched.incrementAndGet();
      mostChildren.accumulateAndGet(launcher.launch().size(), Math::max);
      return InvokeTree.launch(launcher, this, task -> "key-" + task.index());
    }

    @Override
    public int concurrency() {
      return concurrency;
    }
  }

  /** Waits (bounded) until {@code n} tasks are running at once: it returns only if they really overlap. */
  private static Work meeting(int n) {
    CountDownLatch met = new CountDownLatch(n);
    return task -> {
      met.countDown();
      if (!met.await(20, TimeUnit.SECONDS)) {
        throw new IllegalStateException("task " + task.index() + " never ran beside " + (n - 1) + " others");
      }
      return "{\"task\":" + task.index() + "}";
    };
  }

  private static List<InvokeTree.Outcome> run(Containers containers, List<ChildTask> tasks, int size) {
    ChildTask root = InvokeTree.launcher("app", SourceKind.KINESIS, "ex", 0, tasks, size);
    return InvokeTree.outcomes(containers.launch(root), tasks.size());
  }

  @Test
  void everyNodeOfADeepTreeStartsItsChildrenConcurrently() {
    // 8 tasks, at most 2 children a node: depth 3, and all 8 tasks must run at the same time to answer at all
    Containers lambda = new Containers(8, meeting(8), Set.of());

    List<InvokeTree.Outcome> outcomes = run(lambda, tasks(8), 2);

    assertThat(outcomes).extracting(InvokeTree.Outcome::response)
        .containsExactlyElementsOf(IntStream.range(0, 8).mapToObj(i -> "{\"task\":" + i + "}").toList());
    assertThat(lambda.mostRunning.get()).isEqualTo(8);
    assertThat(lambda.launched.get()).isEqualTo(7);
    assertThat(lambda.mostChildren.get()).isEqualTo(2);
    long lastStart = lambda.ran.values().stream().mapToLong(times -> times[0]).max().orElseThrow();
    long firstEnd = lambda.ran.values().stream().mapToLong(times -> times[1]).min().orElseThrow();
    assertThat(lastStart).as("every task started before any ended").isLessThan(firstEnd);
  }

  @Test
  void aNodeRunsNoMoreChildrenAtOnceThanItsInvokersConcurrency() {
    Containers lambda = new Containers(3, meeting(3), Set.of());

    List<InvokeTree.Outcome> outcomes = run(lambda, tasks(10), 100);

    assertThat(outcomes).extracting(InvokeTree.Outcome::error).containsOnlyNulls();
    assertThat(lambda.mostRunning.get()).isEqualTo(3);
    assertThat(lambda.launched.get()).isOne();
  }

  @Test
  void aFailedTaskOrLauncherAnswersErrorsForItsOwnTasksInOrder() {
    // task 4 fails; the launcher whose first task is 6 (tasks 6 and 7) dies before invoking anything
    Containers lambda = new Containers(8, task -> {
      if (task.index() == 4) {
        throw new IllegalStateException("task 4 failed");
      }
      return "{\"task\":" + task.index() + "}";
    }, Set.of(6));

    List<InvokeTree.Outcome> outcomes = run(lambda, tasks(8), 2);

    List<String> errors = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      InvokeTree.Outcome outcome = outcomes.get(i);
      if (outcome.error() != null) {
        errors.add(i + ": " + outcome.error());
        assertThat(outcome.response()).isNull();
      } else {
        assertThat(outcome.response()).isEqualTo("{\"task\":" + i + "}");
      }
    }
    assertThat(errors).hasSize(3);
    assertThat(errors.get(0)).startsWith("4: ").contains("task 4 failed");
    assertThat(errors.get(1)).startsWith("6: ").contains("launcher died");
    assertThat(errors.get(2)).startsWith("7: ").contains("launcher died");
    assertThat(lambda.ran).doesNotContainKeys(6, 7);
  }

  @Test
  void noNodeHasMoreChildrenThanTheTreesSizeAndTheTasksKeepTheirOrder() {
    List<Integer> indexes = IntStream.range(0, 250).boxed().toList();
    List<List<Integer>> groups = InvokeTree.groups(indexes, 10);
    assertThat(groups).hasSize(10);
    assertThat(groups.stream().flatMap(List::stream).toList()).isEqualTo(indexes);

    ChildTask root = InvokeTree.launcher("app", SourceKind.KINESIS, "ex", 0, tasks(250), 10);
    assertThat(InvokeTree.leaves(root)).extracting(ChildTask::index).isEqualTo(indexes);
    assertThat(maxChildren(root)).isEqualTo(10);
    // 10 launchers of 25 tasks, each with 3 launchers of 8-9 tasks: depth 3
    assertThat(InvokeTree.launchers(root)).isEqualTo(1 + 10 + 30);
    // at most size x size tasks keep the two-level shape: launchers of the tasks themselves
    assertThat(InvokeTree.groups(IntStream.range(0, 100).boxed().toList(), 10)).allSatisfy(group ->
        assertThat(group).hasSize(10));
  }

  private static int maxChildren(ChildTask node) {
    int most = node.launch().size();
    for (ChildTask child : node.launch()) {
      most = Math.max(most, maxChildren(child));
    }
    return most;
  }
}
