package io.spindrift.runtime;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.fanout.ChildInvoker;
import io.spindrift.fanout.ChildResult;
import io.spindrift.fanout.InvokeTree;
import io.spindrift.fanout.ChildTask;
import io.spindrift.fanout.Exchange;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.protocol.Faults;
import io.spindrift.protocol.MicroBatch;
import io.spindrift.protocol.StateCommits;
import io.spindrift.sink.Sink;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateDeltaCodec;
import io.spindrift.state.StateTable;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a child executor does with a task (DESIGN §8), in a Lambda container of the child function or a local
 * child process: a map task reads its split (one ranged GET) and runs the stateless job over it as one
 * micro-batch; a partition task routes its split's records by the state partitions their rows feed and writes them
 * as one object ({@link PartitionRouting}); a reduce task reads its ranges of every partition map's object (ranged
 * GETs in parallel) and runs the stateful job over them keeping only its own partitions. A task that stages output
 * stages it under the task's stage id; every task writes its manifest at its deterministic result key. It commits
 * nothing: only the parent does. Queries stay warm between tasks like a container's (a reduce query restarts per
 * task, on the head's checkpoint).
 */
final class ChildRuns {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.child");
  /** A Lambda response holds 6 MB; a larger manifest is answered by its key. */
  private static final int MAX_RESPONSE_CHARS = 5_000_000;

  private final String app;
  private final Supplier<SparkSession> sessions;
  private final StreamJob job;
  private final Sink table;
  private final Sink rejects;
  private final Supplier<StateTable> stateTable;
  private final CommitLog log;
  private final Exchange exchange;
  private final long idleLaneMs;
  private final io.spindrift.job.PayloadDecoders decoders;
  private final Map<SourceKind, MicroBatchQuery> maps = new EnumMap<>(SourceKind.class);
  private final Map<SourceKind, MicroBatchQuery> reduces = new EnumMap<>(SourceKind.class);
  private final Map<SourceKind, PartitionRouting> routings = new EnumMap<>(SourceKind.class);
  private StateTable state;
  private StateCommits stateCommits;
  private final Supplier<ChildInvoker> invokers;
  /** This container's invoker, for the launchers of a tree of invokes (made on first use). */
  private ChildInvoker launcher;

  ChildRuns(String app, Supplier<SparkSession> sessions, StreamJob job, Sink table, Sink rejects,
      Supplier<StateTable> stateTable, CommitLog log, Exchange exchange, long idleLaneMs,
      Supplier<ChildInvoker> invokers, io.spindrift.job.PayloadDecoders decoders) {
    this.idleLaneMs = idleLaneMs;
    this.invokers = invokers;
    this.decoders = decoders;
    this.app = app;
    this.sessions = sessions;
    this.job = job;
    this.table = table;
    this.rejects = rejects;
    this.stateTable = stateTable;
    this.log = log;
    this.exchange = exchange;
  }

  String run(String taskJson) {
    ChildTask task = ChildTask.fromJson(taskJson);
    if (!task.app().equals(app)) {
      throw new IllegalArgumentException("Task of app '" + task.app() + "' sent to a child of app '" + app + "'");
    }
    if (task.role() == ChildTask.Role.LAUNCH) {
      return launch(task);
    }
    synchronized (this) {
      return runTask(task);
    }
  }

  private String runTask(ChildTask task) {
    long start = System.nanoTime();
    Map<String, Long> timings = new LinkedHashMap<>();
    ChildResult manifest = switch (task.role()) {
      case PARTITION -> partition(task, start, timings);
      case COMBINE -> combine(task, start);
      default -> runJob(task, start, timings);
    };
    exchange.putResult(app, manifest);
    LOG.info("{{\"app\":\"{}\",\"child\":\"{}\",\"records\":{},\"output\":{},\"durationMs\":{},\"timingsMs\":{}}}",
        app, task.describe(), manifest.records(), manifest.tableRows(), manifest.durationMs(), timings);
    String json = manifest.toJson();
    return json.length() <= MAX_RESPONSE_CHARS ? json
        : "{\"resultKey\":\"" + exchange.resultKey(app, task.exchange(), task.role(), task.index()) + "\"}";
  }

  /**
   * A partition map: routes its split's records to the reducers owning the state partitions their rows feed
   * ({@link PartitionRouting}) and writes them as one object, one block per reducer ({@link Exchange#writeRouted}).
   * A record is primary for the reducer owning its lowest partition.
   */
  private ChildResult partition(ChildTask task, long start, Map<String, Long> timings) {
    List<SourceRecord> records = exchange.readInput(task);
    timings.put("read", (System.nanoTime() - start) / 1_000_000);
    long routeStart = System.nanoTime();
    PartitionRouting.Routes routes = routing(task.kind()).route(records, task.partitionCount());
    timings.put("route", (System.nanoTime() - routeStart) / 1_000_000);
    int reducers = task.reducers();
    List<List<Exchange.Routed>> blocks = new ArrayList<>(reducers);
    for (int r = 0; r < reducers; r++) {
      blocks.add(new ArrayList<>());
    }
    List<Exchange.Routed> all = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      if (routes.partitions() == null) {
        all.add(new Exchange.Routed(records.get(i), true));
        continue;
      }
      int[] partitions = routes.partitions().get(i);
      int primary = partitions[0] % reducers;
      boolean[] sent = new boolean[reducers];
      for (int partition : partitions) {
        int reducer = partition % reducers;
        if (!sent[reducer]) {
          sent[reducer] = true;
          blocks.get(reducer).add(new Exchange.Routed(records.get(i), reducer == primary));
        }
      }
    }
    long writeStart = System.nanoTime();
    List<Long> index = exchange.writeRouted(app, task.exchange(), task.index(), blocks, all);
    timings.put("write", (System.nanoTime() - writeStart) / 1_000_000);
    return new ChildResult(task.exchange(), task.role(), task.index(), task.stageId(), null, 0, null, 0,
        records.size(), null, List.of(), null, (System.nanoTime() - start) / 1_000_000, index,
        routes.newestPerLane(), routes.newestMs());
  }

  /**
   * A launcher of a tree of invokes: starts its tasks through this container's invoker and answers with their
   * outcomes ({@link InvokeTree}). It is not synchronized with other tasks: it waits on children, not on Spark.
   */
  private String launch(ChildTask task) {
    ChildInvoker invoker;
    synchronized (this) {
      if (launcher == null) {
        launcher = invokers.get();
      }
      invoker = launcher;
    }
    LOG.info("{{\"app\":\"{}\",\"child\":\"{}\",\"launches\":{}}}", app, task.describe(), task.launch().size());
    return InvokeTree.launch(task, invoker,
        sub -> exchange.resultKey(app, sub.exchange(), sub.role(), sub.index()));
  }

  /** A combiner of a two-level exchange: its group's map objects gathered into one ({@link Exchange#combine}). */
  private ChildResult combine(ChildTask task, long start) {
    List<Long> index = exchange.combine(app, task.exchange(), task.index(), task.reads(), task.indexes(),
        task.reducers());
    return new ChildResult(task.exchange(), task.role(), task.index(), task.stageId(), null, 0, null, 0, 0, null,
        List.of(), null, (System.nanoTime() - start) / 1_000_000, index, null, null);
  }

  /** A map task (the stateless job over its split) or a reduce task (the stateful job over its records). */
  private ChildResult runJob(ChildTask task, long start, Map<String, Long> timings) {
    List<SourceRecord> records;
    Set<String> primary = null;
    if (task.role() == ChildTask.Role.REDUCE && task.inputKey() == null) {
      List<Exchange.Routed> routed = exchange.readRouted(task.reads(), task.partitions().contains(0));
      records = new ArrayList<>(routed.size());
      primary = new HashSet<>();
      for (Exchange.Routed one : routed) {
        records.add(one.record());
        if (one.primary()) {
          primary.add(one.record().lane() + "\n" + one.record().position());
        }
      }
    } else {
      records = exchange.readInput(task);
    }
    timings.put("read", (System.nanoTime() - start) / 1_000_000);
    Batch batch = new Batch(task.kind(), records);
    LogSnapshot snapshot = new LogSnapshot(task.headSeq(), task.headSeq(), Map.of(), task.checkpoint());
    MicroBatch.Result result;
    String deltas = null;
    List<List<String>> read = new ArrayList<>();
    if (task.role() == ChildTask.Role.MAP) {
      result = maps.computeIfAbsent(task.kind(), kind -> query(kind, null)).run(batch, task.stageId(), snapshot,
          timings);
    } else {
      stateCommits().catchUp(snapshot);
      result = reduces.computeIfAbsent(task.kind(), kind -> query(kind, state)).runOwned(batch, task.stageId(),
          snapshot, timings, new MicroBatchQuery.Owned(task.partitions(), task.partitionCount(), primary,
              task.newestPerLane()));
      if (!result.changes().isEmpty()) {
        deltas = Base64.getEncoder().encodeToString(StateDeltaCodec.encode(result.changes().deltas()));
      }
      for (StateBucket bucket : result.changes().bucketsRead()) {
        read.add(List.of(Long.toString(bucket.operatorId()), bucket.storeName(), Integer.toString(bucket.partition())));
      }
    }
    long durationMs = (System.nanoTime() - start) / 1_000_000;
    return new ChildResult(task.exchange(), task.role(), task.index(), task.stageId(),
        result.table().ref(), result.table().rows(), result.rejects().ref(), result.rejects().rows(),
        records.size(), deltas, read, result.checkpoint(), durationMs, null, null, null);
  }

  private PartitionRouting routing(SourceKind kind) {
    return routings.computeIfAbsent(kind, k -> new PartitionRouting(sessions.get().newSession(), job,
        new JobContext(app, k)));
  }

  private StateCommits stateCommits() {
    if (stateCommits == null) {
      state = stateTable.get();
      state.ensureTable();
      stateCommits = new StateCommits(app, log, state, new Faults());
    }
    return stateCommits;
  }

  private MicroBatchQuery query(SourceKind kind, StateTable durable) {
    return new MicroBatchQuery(sessions, job, new JobContext(app, kind, decoders), table, rejects, durable, idleLaneMs);
  }

  synchronized void close() {
    maps.values().forEach(MicroBatchQuery::close);
    reduces.values().forEach(MicroBatchQuery::close);
    maps.clear();
    reduces.clear();
    if (launcher != null) {
      launcher.close();
      launcher = null;
    }
  }
}
