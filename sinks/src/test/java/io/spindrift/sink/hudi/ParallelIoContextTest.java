package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.common.util.collection.Pair;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.junit.jupiter.api.Test;

/** Hudi's file operations through the engine: items at once on several threads, Hudi's results and failures. */
class ParallelIoContextTest {
  private final ParallelIoContext context = new ParallelIoContext(HadoopFSUtils.getStorageConf(new Configuration()));

  /** Four items that each wait for all four to have started: only items running at once can finish. */
  @Test
  void foreachRunsItsItemsAtOnce() {
    CountDownLatch allStarted = new CountDownLatch(4);
    Set<Long> threads = ConcurrentHashMap.newKeySet();
    context.foreach(List.of(1, 2, 3, 4), item -> {
      threads.add(Thread.currentThread().getId());
      allStarted.countDown();
      assertThat(allStarted.await(10, TimeUnit.SECONDS)).as("item %d saw the others start", item).isTrue();
    }, 1);
    assertThat(threads).hasSize(4);
  }

  @Test
  void mapToPairKeepsTheLaterItemsValueOfAKeyAsHudisDoes() {
    List<Integer> items = IntStream.range(0, 50).boxed().toList();
    Map<Integer, Integer> out = context.mapToPair(items, item -> Pair.of(item % 10, item), 1);
    assertThat(out).hasSize(10).containsEntry(0, 40).containsEntry(9, 49);
  }

  @Test
  void theFirstFailureInItemOrderIsThrownOnceEveryItemEnded() {
    Set<Integer> ran = ConcurrentHashMap.newKeySet();
    assertThatThrownBy(() -> context.foreach(List.of(1, 2, 3, 4, 5), item -> {
      ran.add(item);
      if (item % 2 == 0) {
        throw new IllegalStateException("item " + item);
      }
    }, 1)).hasRootCauseMessage("item 2"); // wrapped by Hudi's function wrapper, as with its own engine
    assertThat(ran).containsExactlyInAnyOrder(1, 2, 3, 4, 5);
  }
}
