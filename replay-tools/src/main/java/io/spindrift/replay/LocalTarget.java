package io.spindrift.replay;

import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.KplAggregate;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The in-process target: the handler's own code path (KPL aggregates de-aggregated as {@code EventDecoder} does,
 * then {@code SpindriftRuntime.process(Batch)}), in this JVM. Each
 * of up to {@code containers} concurrent batches runs in its own runtime, as concurrent invocations run in their
 * own Lambda containers (one SparkSession for the JVM).
 */
final class LocalTarget implements ReplayTarget {
  private final SpindriftConfig config;
  private final BlockingQueue<SpindriftRuntime> idle;
  private final List<SpindriftRuntime> all = new ArrayList<>();
  private final int containers;

  LocalTarget(SpindriftConfig config, int containers) {
    this.config = config;
    this.containers = containers;
    this.idle = new ArrayBlockingQueue<>(containers);
  }

  @Override
  public BatchOutcome process(Batch batch) {
    SpindriftRuntime runtime = take();
    try {
      // as the handler's decoder does: a source delivers Kinesis records as stored, KPL aggregates included
      return runtime.process(KplAggregate.expand(batch));
    } finally {
      idle.add(runtime);
    }
  }

  private SpindriftRuntime take() {
    SpindriftRuntime runtime = idle.poll();
    if (runtime != null) {
      return runtime;
    }
    synchronized (all) {
      if (all.size() < containers) {
        SpindriftRuntime created = SpindriftRuntime.create(config);
        all.add(created);
        return created;
      }
    }
    try {
      return idle.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a runtime", e);
    }
  }

  @Override
  public void close() {
    synchronized (all) {
      all.forEach(SpindriftRuntime::close);
    }
  }
}
