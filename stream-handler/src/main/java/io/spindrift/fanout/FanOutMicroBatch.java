package io.spindrift.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceRecord;
import io.spindrift.protocol.MicroBatch;
import io.spindrift.sink.StagedOutput;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateChanges;
import io.spindrift.state.StateDelta;
import io.spindrift.state.StateDeltaCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 3 of the protocol for a batch too big for one invocation (DESIGN §8): the parent becomes a coordinator.
 * Below the planner's thresholds (or for a plan that cannot be split, with the reason logged) it runs the batch
 * itself ({@code single}); above them it writes the batch's records to the {@link Exchange} (one object), starts
 * child executors through a {@link ChildInvoker} in stages (stateless: map children; stateful: partition maps, in a
 * two-level plan combiners, then reducers, each stage's tasks built from the previous stage's manifests; many
 * children through a tree of invokes, {@link InvokeTree}), and combines the last stage's manifests into one
 * {@link MicroBatch.Result}:
 * one composite stage per table ({@link StagedOutput#combine}), the union of the reducers' state deltas (each owns
 * whole partitions), and the query checkpoint with the batch's next watermark combined over all reducers. The
 * protocol then commits once, as for any batch; nothing a child does is visible before that commit. A batch run's
 * manifest of input splits ({@link S3Split}) writes no input: each map is sent its share of the splits and the
 * lane's committed position and reads the records from the input objects itself; below the thresholds the parent
 * reads them. Either way the records a manifest ran are noted by transaction id ({@link SplitRecordCounts}), for
 * its commit's counts.
 *
 * <p>Children answer by key as well as in their response: a parent that died after its children finished is
 * retried with the same exchange id (derived from the batch's lane ranges and the plan) and GETs their results
 * instead of running them again. A child that fails is retried up to {@code attempts} times, then the batch fails
 * (Lambda retries it); one still running after {@code stragglerFactor} times its finished peers' median is
 * re-issued, and the first answer wins.
 */
public final class FanOutMicroBatch implements MicroBatch {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.fanout");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ThreadLocal<Long> REMAINING_MS = new ThreadLocal<>();
  private static final long MIN_STRAGGLER_MS = 1_000;

  private final String app;
  private final MicroBatch single;
  private final FanOutPlanner planner;
  private final Exchange exchange;
  private final ChildInvoker invoker;
  /** Why this job's stateful batches cannot be split, or null. */
  private final String unsplittable;
  private final int attempts;
  private final double stragglerFactor;
  private final SplitRecordCounts splitCounts;
  private volatile FanOutReport last;
  private final java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong childInvocations = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong fannedRecords = new java.util.concurrent.atomic.AtomicLong();

  public FanOutMicroBatch(String app, MicroBatch single, FanOutPlanner planner, Exchange exchange,
      ChildInvoker invoker, String unsplittable, int attempts, double stragglerFactor,
      SplitRecordCounts splitCounts) {
    this.app = app;
    this.splitCounts = splitCounts;
    this.single = single;
    this.planner = planner;
    this.exchange = exchange;
    this.invoker = invoker;
    this.unsplittable = unsplittable;
    this.attempts = attempts;
    this.stragglerFactor = stragglerFactor;
  }

  /** Sets the calling invocation's remaining time (Lambda's {@code Context}), for the planner's time budget. */
  public static void remainingTime(long remainingMs) {
    REMAINING_MS.set(remainingMs);
  }

  /** What the last batch that fanned out did (null if none has). */
  public FanOutReport lastReport() {
    return last;
  }

  /** Batches fanned out so far, their records and the child invocations they took. */
  public record FanOutTotals(long batches, long records, long childInvocations) {}

  public FanOutTotals totals() {
    return new FanOutTotals(batches.get(), fannedRecords.get(), childInvocations.get());
  }

  /**
   * One fanned-out batch: its plan, exchange, child invocations (both stages of a stateful plan), re-issued
   * stragglers, results reused from an earlier attempt, records, the ranged GETs its reducers were given and the
   * records they read together (each record once per reducer whose partitions its rows feed), and the launchers
   * of its trees of invokes (0: the parent invoked every child).
   */
  public record FanOutReport(FanOutPlan plan, String exchange, int invocations, int reissued, int reused,
      long records, int rangedReads, long reducedRecords, int launchers) {}

  @Override
  public Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
    if (isManifest(fresh)) {
      return runManifest(fresh, txnId, snapshot, timings);
    }
    Long remaining = REMAINING_MS.get();
    Optional<String> reason = planner.reason(fresh, remaining == null ? Long.MAX_VALUE : remaining);
    if (reason.isEmpty()) {
      return single.run(fresh, txnId, snapshot, timings);
    }
    if (single.isStateful() && unsplittable != null) {
      LOG.info("{{\"app\":\"{}\",\"fanOut\":false,\"wanted\":\"{}\",\"fallback\":\"{}\"}}", app, reason.get(),
          unsplittable);
      return single.run(fresh, txnId, snapshot, timings);
    }
    FanOutPlan plan = planner.plan(fresh, single.isStateful(), reason.get());
    long start = System.nanoTime();
    Result result = fanOut(fresh, txnId, snapshot, plan);
    timings.merge("fanout", (System.nanoTime() - start) / 1_000_000, Long::sum);
    return result;
  }

  /** A batch run's manifest of input splits ({@link S3Split}): its records are in the input objects. */
  private static boolean isManifest(Batch fresh) {
    return !fresh.isEmpty() && fresh.records().get(0) instanceof S3Split;
  }

  /**
   * A batch run's manifest: fanned out, each map reads its splits from the input objects and the parent reads
   * none; below the thresholds (or for a stateful job that cannot be split) the parent reads them and runs the
   * records itself.
   */
  private Result runManifest(Batch manifest, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
    Optional<String> reason = planner.splitsReason(manifest);
    if (reason.isPresent() && single.isStateful() && unsplittable != null) {
      LOG.info("{{\"app\":\"{}\",\"fanOut\":false,\"wanted\":\"{}\",\"fallback\":\"{}\"}}", app, reason.get(),
          unsplittable);
      reason = Optional.empty();
    }
    if (reason.isEmpty()) {
      List<S3Split> splits = manifest.records().stream().map(S3Split.class::cast).toList();
      String after = snapshot.lanePositions().get(splits.get(0).lane());
      List<SourceRecord> records = exchange.readSplits(splits, manifest.kind(), after);
      Result result = single.run(new Batch(manifest.kind(), records), txnId, snapshot, timings);
      splitCounts.note(txnId, records.size());
      return result;
    }
    FanOutPlan plan = planner.planSplits(manifest.size(), single.isStateful(), reason.get());
    long start = System.nanoTime();
    Result result = fanOut(manifest, txnId, snapshot, plan);
    timings.merge("fanout", (System.nanoTime() - start) / 1_000_000, Long::sum);
    return result;
  }

  private Result fanOut(Batch fresh, String txnId, LogSnapshot snapshot, FanOutPlan plan) {
    long stateHead = plan.stateful() ? snapshot.headSeq() : -1;
    String id = Exchange.id(app, fresh.kind(), fresh.ranges(snapshot.lanePositions()), stateHead,
        plan.fingerprint());
    boolean earlier = exchange.hasPlan(app, id);
    boolean manifest = isManifest(fresh);
    List<List<SourceRecord>> splits = Exchange.split(fresh.records(), plan.splits());
    Exchange.Input input = manifest ? null : earlier ? layout(id, splits) : exchange.writeInput(app, id, splits);
    if (!earlier) {
      exchange.putPlan(app, id, plan.describe());
    }
    LOG.info("{{\"app\":\"{}\",\"fanOut\":true,\"exchange\":\"{}\",\"{}\":{},\"plan\":\"{}\",\"retried\":{}}}",
        app, id, manifest ? "inputSplits" : "records", fresh.size(), plan.describe(), earlier);
    Stage maps = stage(earlier, id, manifest ? splitTasks(fresh, snapshot, plan, id, splits)
        : mapTasks(fresh, snapshot, plan, id, input));
    long records = manifest ? Arrays.stream(maps.results).mapToLong(ChildResult::records).sum() : fresh.size();
    if (manifest) {
      splitCounts.note(txnId, records);
    }
    Stage total = new Stage().add(maps);
    Stage outputs = maps; // the stage whose children staged the batch's output
    int rangedReads = 0;
    if (plan.stateful()) {
      Map<String, Long> newest = newestPerLane(fresh, maps.results);
      ChildResult[] sources = maps.results;
      if (plan.combiners() > 0) {
        List<ChildTask> combineTasks = combineTasks(fresh, snapshot, plan, id, maps.results);
        rangedReads += combineTasks.stream().mapToInt(task -> task.reads().size()).sum();
        Stage combiners = stage(earlier, id, combineTasks);
        total.add(combiners);
        sources = combiners.results;
      }
      List<ChildTask> reduceTasks = reduceTasks(fresh, snapshot, plan, id, sources, newest);
      rangedReads += reduceTasks.stream().mapToInt(task -> task.reads().size()).sum();
      outputs = stage(earlier, id, reduceTasks);
      total.add(outputs);
    }
    long reduced = plan.stateful() ? Arrays.stream(outputs.results).mapToLong(ChildResult::records).sum() : 0;
    last = new FanOutReport(plan, id, total.invocations, total.reissued, total.reused, records,
        rangedReads, reduced, total.launchers);
    batches.incrementAndGet();
    fannedRecords.addAndGet(records);
    childInvocations.addAndGet(total.invocations);
    return combine(plan, Arrays.asList(outputs.results));
  }

  /** One stage of children: their results (found by key from an earlier attempt, or run now), or stages' totals. */
  private static final class Stage {
    private ChildResult[] results;
    private int invocations;
    private int reissued;
    private int reused;
    private int launchers;

    Stage add(Stage other) {
      invocations += other.invocations;
      reissued += other.reissued;
      reused += other.reused;
      launchers += other.launchers;
      return this;
    }
  }

  private Stage stage(boolean earlier, String id, List<ChildTask> tasks) {
    Stage stage = new Stage();
    stage.results = new ChildResult[tasks.size()];
    if (earlier) {
      for (ChildTask task : tasks) {
        Optional<ChildResult> found = exchange.result(app, id, task.role(), task.index());
        if (found.isPresent()) {
          stage.results[task.index()] = found.get();
          stage.reused++;
        }
      }
    }
    Children children = new Children(tasks, stage.results);
    children.run();
    stage.launchers = children.launchers;
    stage.invocations = children.invocations;
    stage.reissued = children.reissued;
    return stage;
  }

  /** Where each split is in the input object an earlier attempt wrote (the encoding is deterministic). */
  private Exchange.Input layout(String id, List<List<SourceRecord>> splits) {
    long[] offsets = new long[splits.size()];
    long[] lengths = new long[splits.size()];
    long at = 0;
    for (int i = 0; i < splits.size(); i++) {
      lengths[i] = io.spindrift.event.RecordCodec.encode(splits.get(i)).length;
      offsets[i] = at;
      at += lengths[i];
    }
    return new Exchange.Input(exchange.inputKey(app, id), offsets, lengths);
  }

  /** The first stage: map children (stateless) or partition maps (stateful), one per split. */
  private List<ChildTask> mapTasks(Batch fresh, LogSnapshot snapshot, FanOutPlan plan, String id,
      Exchange.Input input) {
    List<ChildTask> tasks = new ArrayList<>();
    ChildTask.Role role = plan.stateful() ? ChildTask.Role.PARTITION : ChildTask.Role.MAP;
    for (int i = 0; i < plan.splits(); i++) {
      tasks.add(new ChildTask(app, fresh.kind(), id, role, i, null, input.key(), input.offsets()[i],
          input.lengths()[i], List.of(), plan.partitions(), snapshot.headSeq(), null, plan.reducers(), List.of(),
          null, null));
    }
    return tasks;
  }

  /**
   * The first stage of a batch run's manifest: each map (or partition map) is sent its contiguous share of the
   * input splits and the lane's committed position, and reads the records itself.
   */
  private List<ChildTask> splitTasks(Batch fresh, LogSnapshot snapshot, FanOutPlan plan, String id,
      List<List<SourceRecord>> shares) {
    List<ChildTask> tasks = new ArrayList<>();
    ChildTask.Role role = plan.stateful() ? ChildTask.Role.PARTITION : ChildTask.Role.MAP;
    String after = snapshot.lanePositions().get(fresh.records().get(0).lane());
    for (int i = 0; i < plan.splits(); i++) {
      List<S3Split> splits = shares.get(i).stream().map(S3Split.class::cast).toList();
      tasks.add(new ChildTask(app, fresh.kind(), id, role, i, null, null, 0, 0, List.of(), plan.partitions(),
          snapshot.headSeq(), null, plan.reducers(), List.of(), null, null, null, splits, after));
    }
    return tasks;
  }

  /** The middle stage of a two-level plan: combiner g gathers its group of map objects (one GET each). */
  private List<ChildTask> combineTasks(Batch fresh, LogSnapshot snapshot, FanOutPlan plan, String id,
      ChildResult[] maps) {
    List<ChildTask> tasks = new ArrayList<>();
    for (int g = 0; g < plan.combiners(); g++) {
      List<Exchange.Range> reads = new ArrayList<>();
      List<List<Long>> indexes = new ArrayList<>();
      for (int m : plan.group(g)) {
        reads.addAll(Exchange.whole(exchange.mapKey(app, id, m), maps[m].mapIndex()));
        indexes.add(maps[m].mapIndex());
      }
      tasks.add(new ChildTask(app, fresh.kind(), id, ChildTask.Role.COMBINE, g, null, null, 0, 0, List.of(),
          plan.partitions(), snapshot.headSeq(), null, plan.reducers(), reads, null, indexes));
    }
    return tasks;
  }

  /**
   * The reduce stage of a stateful plan: reducer r reads its block (and any block for every reducer) of each
   * partition map's object, or of each combiner's in a two-level plan, and is handed the whole batch's newest event
   * times, combined from the maps'.
   */
  private List<ChildTask> reduceTasks(Batch fresh, LogSnapshot snapshot, FanOutPlan plan, String id,
      ChildResult[] sources, Map<String, Long> newest) {
    List<ChildTask> tasks = new ArrayList<>();
    for (int r = 0; r < plan.reducers(); r++) {
      List<Exchange.Range> reads = new ArrayList<>();
      for (ChildResult source : sources) {
        String key = source.role() == ChildTask.Role.COMBINE ? exchange.combineKey(app, id, source.index())
            : exchange.mapKey(app, id, source.index());
        reads.addAll(Exchange.ranges(key, source.mapIndex(), r));
      }
      tasks.add(new ChildTask(app, fresh.kind(), id, ChildTask.Role.REDUCE, r, null, null, 0, 0, plan.owned(r),
          plan.partitions(), snapshot.headSeq(), snapshot.checkpoint(), plan.reducers(), reads, newest, null));
    }
    return tasks;
  }

  /**
   * The batch's newest event time per lane at the job's watermark, from the partition maps' splits: the maximum per
   * lane; when the lane column does not reach the watermark, the batch's newest event for every lane (what one
   * query over the whole batch reports); empty without a watermark.
   */
  static Map<String, Long> newestPerLane(Batch fresh, ChildResult[] maps) {
    Map<String, Long> perLane = new java.util.TreeMap<>();
    Long newest = null;
    for (ChildResult map : maps) {
      if (map.newestPerLane() != null) {
        map.newestPerLane().forEach((lane, ms) -> perLane.merge(lane, ms, Math::max));
      }
      if (map.newestMs() != null) {
        newest = newest == null ? map.newestMs() : Math.max(newest, map.newestMs());
      }
    }
    if (perLane.isEmpty() && newest != null) {
      for (SourceRecord record : fresh.records()) {
        perLane.put(record.lane(), newest);
      }
    }
    return perLane;
  }

  /** The children's manifests as one result: composite stages, the union of state changes, one checkpoint. */
  private Result combine(FanOutPlan plan, List<ChildResult> results) {
    StagedOutput table = StagedOutput.combine(results.stream().map(ChildResult::table).toList());
    StagedOutput rejects = StagedOutput.combine(results.stream().map(ChildResult::rejects).toList());
    if (!plan.stateful()) {
      return new Result(table, rejects, StateChanges.NONE, null, -1);
    }
    List<StateDelta> deltas = new ArrayList<>();
    Set<StateBucket> read = new HashSet<>();
    Set<StateBucket> touched = new HashSet<>();
    for (ChildResult result : results) {
      if (result.stateDeltas() != null) {
        for (StateDelta delta : StateDeltaCodec.decode(Base64.getDecoder().decode(result.stateDeltas()))) {
          if (!touched.add(delta.bucket()) || !plan.owned(result.index()).contains(delta.bucket().partition())) {
            throw new IllegalStateException("Reduce child " + result.index() + " of exchange " + result.exchange()
                + " changed state bucket " + delta.bucket() + " it does not own alone");
          }
          deltas.add(delta);
        }
      }
      for (List<String> bucket : result.bucketsRead()) {
        read.add(new StateBucket(Long.parseLong(bucket.get(0)), bucket.get(1), Integer.parseInt(bucket.get(2))));
      }
    }
    deltas.sort((a, b) -> a.bucket().id().compareTo(b.bucket().id()));
    return new Result(table, rejects, new StateChanges(deltas, read),
        combineCheckpoints(results.stream().map(ChildResult::checkpoint).toList()), -1);
  }

  /**
   * One query checkpoint from the reducers': theirs agree but for the next batch's watermark, which each derived
   * from the event times it saw; one query over the whole batch would have taken the maximum (Spark's default
   * multiple-watermark policy is per operator; a job with one stateful operator has one watermark).
   */
  static String combineCheckpoints(List<String> checkpoints) {
    String first = null;
    long watermark = Long.MIN_VALUE;
    for (String checkpoint : checkpoints) {
      if (checkpoint == null) {
        continue;
      }
      try {
        JsonNode node = JSON.readTree(checkpoint);
        first = first == null ? checkpoint : first;
        JsonNode commit = JSON.readTree(node.get("commitMeta").asText());
        watermark = Math.max(watermark, commit.path("nextBatchWatermarkMs").asLong(0));
      } catch (IOException e) {
        throw new UncheckedIOException("Unreadable checkpoint from a reduce child: " + checkpoint, e);
      }
    }
    if (first == null) {
      return null;
    }
    try {
      ObjectNode node = (ObjectNode) JSON.readTree(first);
      ObjectNode commit = (ObjectNode) JSON.readTree(node.get("commitMeta").asText());
      commit.put("nextBatchWatermarkMs", watermark);
      node.put("commitMeta", commit.toString());
      return node.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void committed(Result result, long seq) {
    if (result.run() >= 0) {
      single.committed(result, seq);
    }
  }

  @Override
  public boolean isStateful() {
    return single.isStateful();
  }

  @Override
  public void close() {
    try {
      single.close();
    } finally {
      invoker.close();
    }
  }

  /** The children of one exchange in flight: retries, straggler re-issues, first answer wins. */
  private final class Children {
    private final List<ChildTask> tasks;
    private final ChildResult[] results;
    private final int[] failures;
    private final int[] running;
    private final long[] startedNanos;
    private final boolean[] reissuedTask;
    private final List<Long> doneMs = new ArrayList<>();
    private final LinkedBlockingQueue<Done> answers = new LinkedBlockingQueue<>();
    private final java.util.ArrayDeque<Integer> waiting = new java.util.ArrayDeque<>();
    private int inFlight;
    private int invocations;
    private int reissued;
    private int launchers;

    Children(List<ChildTask> tasks, ChildResult[] results) {
      this.tasks = tasks;
      this.results = results;
      this.failures = new int[tasks.size()];
      this.running = new int[tasks.size()];
      this.startedNanos = new long[tasks.size()];
      this.reissuedTask = new boolean[tasks.size()];
    }

    private record Done(int index, String response, Throwable error, long startedNanos) {}

    void run() {
      for (int i = 0; i < tasks.size(); i++) {
        if (results[i] == null) {
          waiting.add(i);
        }
      }
      int open = waiting.size();
      if (waiting.size() > planner.treeChildren()) {
        launchTree();
      }
      while (open > 0) {
        launchWaiting();
        Done done;
        try {
          done = answers.poll(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("Interrupted while waiting for child executors", e);
        }
        if (done != null) {
          inFlight--;
          running[done.index()]--;
          if (results[done.index()] == null) {
            if (done.error() == null) {
              results[done.index()] = parse(done.response());
              doneMs.add((System.nanoTime() - done.startedNanos()) / 1_000_000);
              open--;
            } else {
              failed(done);
            }
          }
        }
        reissueStragglers();
      }
    }

    private void failed(Done done) {
      int index = done.index();
      failures[index]++;
      LOG.warn("Child {} failed (attempt {} of {}): {}", tasks.get(index).describe(), failures[index], attempts,
          String.valueOf(done.error()));
      if (running[index] > 0) {
        return; // a re-issued copy is still running: its answer may yet win
      }
      if (failures[index] >= attempts) {
        throw new IllegalStateException("Child " + tasks.get(index).describe() + " failed " + failures[index]
            + " times (SPINDRIFT_FANOUT_CHILD_ATTEMPTS); the batch fails so that Lambda retries it",
            done.error());
      }
      waiting.add(index);
    }

    private void launchWaiting() {
      while (!waiting.isEmpty() && inFlight < invoker.concurrency()) {
        launch(waiting.poll());
      }
    }

    private void launch(int index) {
      ChildTask task = tasks.get(index).withStageId(stageId(index));
      long started = System.nanoTime();
      if (running[index] == 0) {
        startedNanos[index] = started;
      }
      running[index]++;
      inFlight++;
      invocations++;
      invoker.invoke(task).whenComplete((response, error) -> answers.add(new Done(index, response, error, started)));
    }

    /**
     * Starts every waiting task through a tree of launchers in which no node (the parent included) invokes more than
     * {@code SPINDRIFT_FANOUT_TREE_CHILDREN} children ({@link InvokeTree}); each task's answer arrives as if the
     * parent had invoked it.
     */
    private void launchTree() {
      List<Integer> indexes = new ArrayList<>(waiting);
      waiting.clear();
      List<List<Integer>> groups = InvokeTree.groups(indexes, planner.treeChildren());
      for (int g = 0; g < groups.size(); g++) {
        List<Integer> group = groups.get(g);
        List<ChildTask> launched = new ArrayList<>();
        long started = System.nanoTime();
        for (int index : group) {
          launched.add(tasks.get(index).withStageId(stageId(index)));
          startedNanos[index] = started;
          running[index]++;
          inFlight++;
          invocations++;
        }
        ChildTask launcher = InvokeTree.launcher(app, launched.get(0).kind(), launched.get(0).exchange(), g,
            launched, planner.treeChildren());
        launchers += InvokeTree.launchers(launcher);
        invoker.invoke(launcher).whenComplete((answer, error) -> {
          List<InvokeTree.Outcome> outcomes = null;
          Throwable failed = error;
          if (failed == null) {
            try {
              outcomes = InvokeTree.outcomes(answer, group.size());
            } catch (RuntimeException e) {
              failed = e;
            }
          }
          for (int i = 0; i < group.size(); i++) {
            InvokeTree.Outcome outcome = outcomes == null ? null : outcomes.get(i);
            Throwable cause = failed != null ? failed : outcome.error() == null ? null
                : new IllegalStateException(outcome.error());
            answers.add(new Done(group.get(i), outcome == null ? null : outcome.response(), cause, started));
          }
        });
      }
    }

    private String stageId(int index) {
      return tasks.get(index).exchange() + "-" + index + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Re-issues, once, a child running longer than the straggler factor times its finished peers' median. */
    private void reissueStragglers() {
      if (doneMs.isEmpty() || doneMs.size() * 2 < tasks.size()) {
        return;
      }
      List<Long> sorted = new ArrayList<>(doneMs);
      sorted.sort(null);
      long median = sorted.get(sorted.size() / 2);
      long limitMs = Math.max(MIN_STRAGGLER_MS, (long) (median * stragglerFactor));
      for (int i = 0; i < tasks.size(); i++) {
        if (results[i] == null && running[i] > 0 && !reissuedTask[i]
            && (System.nanoTime() - startedNanos[i]) / 1_000_000 > limitMs) {
          reissuedTask[i] = true;
          reissued++;
          LOG.info("Child {} is a straggler (over {} ms, peers' median {} ms): re-issued", tasks.get(i).describe(),
              limitMs, median);
          launch(i);
        }
      }
    }

    private ChildResult parse(String response) {
      try {
        JsonNode node = JSON.readTree(response);
        if (node.has("resultKey")) {
          return exchange.resultAt(node.get("resultKey").asText());
        }
      } catch (IOException e) {
        throw new IllegalStateException("Unreadable child response: " + response, e);
      }
      return ChildResult.fromJson(response);
    }
  }
}
