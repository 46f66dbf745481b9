package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Concurrent invocations on different lanes, and duplicate deliveries of one batch, never lose or double (I4). */
class ConcurrencyTest {
  @Test
  void fourContainersOnFourLanesPlusDuplicatesCommitEveryRecordOnce() throws Exception {
    String app = TestPipeline.uniqueApp("conc");
    List<SpindriftRuntime> containers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      containers.add(TestPipeline.runtime(app));
    }
    List<String> events = new ArrayList<>();
    for (int lane = 0; lane < 4; lane++) {
      for (int batch = 0; batch < 3; batch++) {
        events.add(KinesisEvents.event("clicks", "shardId-00000000000" + lane, batch * 40L,
            KinesisEvents.clicks(40, 100 + lane * 10 + batch)));
      }
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> futures = new ArrayList<>();
    for (int lane = 0; lane < 4; lane++) {
      int l = lane;
      futures.add(pool.submit(() -> {
        for (int batch = 0; batch < 3; batch++) {
          String event = events.get(l * 3 + batch);
          // each batch goes to this lane's container, then is redelivered to another container (a duplicate)
          invoke(containers.get(l), event);
          invoke(containers.get((l + 1) % 4), event);
        }
        return null;
      }));
    }
    for (Future<?> future : futures) {
      future.get();
    }
    pool.shutdown();

    SpindriftRuntime reader = containers.get(0);
    assertThat(TestPipeline.count(reader, "it." + app)).isEqualTo(480);
    assertThat(TestPipeline.distinctEvents(reader, "it." + app)).isEqualTo(480);
    long conflicts = containers.stream().mapToLong(SpindriftRuntime::conflicts).sum();
    assertThat(conflicts).as("commit conflicts met and resolved").isPositive();
    containers.forEach(SpindriftRuntime::close);
  }

  private static void invoke(SpindriftRuntime runtime, String event) {
    try {
      new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1).invoke(event);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
